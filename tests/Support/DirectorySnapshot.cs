namespace NodeAgent.Tests.Support;

/// <summary>Every entry below a directory with its bytes (or link target), for "nothing changed" checks.</summary>
public static class DirectorySnapshot
{
    public static SortedDictionary<string, string> Of(string path)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(path))
        {
            return entries;
        }
        foreach (var entry in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(entry);
            try
            {
                entries[Path.GetRelativePath(path, entry)] = info.LinkTarget is not null ? "link:" + info.LinkTarget
                    : Directory.Exists(entry) ? "dir"
                    : Convert.ToBase64String(File.ReadAllBytes(entry));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Renamed away between listing and reading: a running daemon's temp file.
            }
        }
        return entries;
    }
}

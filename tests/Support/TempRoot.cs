namespace NodeAgent.Tests.Support;

/// <summary>A real temporary directory, deleted when the test ends.</summary>
public sealed class TempRoot : IDisposable
{
    public TempRoot(string prefix = "node-agent-test")
    {
        Path = Directory.CreateTempSubdirectory(prefix + "-").FullName;
    }

    public string Path { get; }

    public string File(string relative) => System.IO.Path.Join(Path, relative);

    public string Write(string relative, string content)
    {
        var path = File(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public string? Read(string relative) => System.IO.File.Exists(File(relative)) ? System.IO.File.ReadAllText(File(relative)) : null;

    /// <summary>Every file below the root with its bytes, for "nothing changed" checks.</summary>
    public SortedDictionary<string, string> Snapshot()
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFileSystemEntries(Path, "*", SearchOption.AllDirectories))
        {
            var relative = System.IO.Path.GetRelativePath(Path, file);
            var info = new FileInfo(file);
            files[relative] = info.LinkTarget is not null ? "link:" + info.LinkTarget
                : Directory.Exists(file) ? "dir"
                : Convert.ToBase64String(System.IO.File.ReadAllBytes(file));
        }
        return files;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

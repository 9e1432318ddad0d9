namespace NodeAgent.Node;

/// <summary>
/// Refuses to read or write through a symbolic link below the root, so a planted link can never
/// redirect a write outside the target tree or onto another file.
/// </summary>
public static class SafePath
{
    /// <summary>Throws <see cref="UnsafePathException"/> if any existing component of the path below the root is a link.</summary>
    public static void Check(HostPaths paths, string relative)
    {
        var current = paths.Root;
        foreach (var part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part is "." or "..")
            {
                throw new UnsafePathException(relative, $"the path component \"{part}\" is not allowed");
            }
            current = Path.Join(current, part);
            var info = new FileInfo(current);
            if (!info.Exists && !Directory.Exists(current) && info.LinkTarget is null)
            {
                return;
            }
            if (info.LinkTarget is not null)
            {
                throw new UnsafePathException(relative,
                    $"{current} is a symbolic link (to {info.LinkTarget}); node-agent does not write through links");
            }
        }
    }

    /// <summary>The current bytes of a file below the root, or null when it does not exist.</summary>
    public static byte[]? Read(HostPaths paths, string relative)
    {
        Check(paths, relative);
        var path = paths.Resolve(relative);
        if (Directory.Exists(path))
        {
            throw new UnsafePathException(relative, $"{path} is a directory, not a file");
        }
        // Opened, not first tested for existence: a file in a directory this user may not read
        // is a permission problem, where File.Exists would call it absent.
        try
        {
            return HostAccessException.Guard(path, "read", () => File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}

public sealed class UnsafePathException(string relative, string message) : IOException(message)
{
    public string RelativePath { get; } = relative;
}

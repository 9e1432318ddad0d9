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

    /// <summary>Every entry below the root with its bytes, for "nothing changed" checks.</summary>
    public SortedDictionary<string, string> Snapshot() => DirectorySnapshot.Of(Path);

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

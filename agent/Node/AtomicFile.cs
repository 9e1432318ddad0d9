using System.Runtime.InteropServices;

namespace NodeAgent.Node;

/// <summary>
/// Crash-safe file replacement: a temp file in the same directory (a name no consumer reads),
/// fsync, rename over the target, fsync the directory. A reader sees the old or the new file,
/// never a mix, and after a crash the file is one of the two.
/// </summary>
public static class AtomicFile
{
    public const UnixFileMode FileMode0644 =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public const UnixFileMode DirectoryMode0755 =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>
    /// Marks node-agent's temp files. They start with a dot and end in <c>.tmp</c>, so neither
    /// registries.conf.d (<c>*.conf</c>) nor certs.d (<c>*.crt</c>, <c>*.cert</c>, <c>*.key</c>) reads them.
    /// </summary>
    public const string TempMarker = ".node-agent-";

    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode = FileMode0644)
    {
        var directory = Path.GetDirectoryName(path)!;
        CreateDirectory(directory);
        var temp = Path.Join(directory, $".{Path.GetFileName(path)}{TempMarker}{Guid.NewGuid():N}.tmp");
        try
        {
            WriteAndRename(temp, path, content, mode);
        }
        catch (Exception e) when (HostAccessException.Applies(e))
        {
            throw HostAccessException.For(path, "write", e);
        }
        SyncDirectory(directory);
    }

    private static void WriteAndRename(string temp, string path, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = System.IO.FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = mode,
            }))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            // The umask may have narrowed the mode given at creation.
            File.SetUnixFileMode(temp, mode);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Removes a file and makes the removal durable.</summary>
    public static void Delete(string path)
    {
        HostAccessException.Guard(path, "remove", () => File.Delete(path));
        SyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>
    /// Creates missing directories with mode 0755, whatever the umask (existing ones keep theirs).
    /// </summary>
    public static void CreateDirectory(string directory)
    {
        var missing = new Stack<string>();
        for (var d = directory; !Directory.Exists(d); d = Path.GetDirectoryName(d)!)
        {
            missing.Push(d);
        }
        foreach (var d in missing)
        {
            HostAccessException.Guard(d, "create the directory", () =>
            {
                Directory.CreateDirectory(d, DirectoryMode0755);
                File.SetUnixFileMode(d, DirectoryMode0755);
            });
        }
    }

    public static void SyncDirectory(string directory)
    {
        var fd = NativeMethods.Open(directory, NativeMethods.ORdonly | NativeMethods.ODirectory | NativeMethods.OCloexec);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to fsync it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            if (NativeMethods.Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            NativeMethods.Close(fd);
        }
    }

    /// <summary>
    /// Deletes temp files a killed earlier run left in <paramref name="directory"/> (and below it,
    /// for node-agent's own state directory; never below a host directory it shares with others).
    /// </summary>
    public static int RemoveStaleTemps(string directory, bool recursive = false)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }
        var removed = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = recursive, AttributesToSkip = FileAttributes.ReparsePoint, MatchType = MatchType.Simple };
        foreach (var file in Directory.EnumerateFiles(directory, $".*{TempMarker}*.tmp", options))
        {
            if (TryDelete(file))
            {
                removed++;
            }
        }
        return removed;
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}

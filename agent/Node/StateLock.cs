using Microsoft.Win32.SafeHandles;

namespace NodeAgent.Node;

/// <summary>
/// An exclusive <c>flock</c> on <c>var/lib/node-agent/lock</c>, so two node-agent processes (a
/// bootstrap <c>--once</c> and the daemon, say) never interleave their writes.
/// </summary>
public sealed class StateLock : IDisposable
{
    // EWOULDBLOCK: .NET reports its own refused lock on open as an IOException with the errno.
    private const int SharingViolation = 11;

    private readonly FileStream _stream;

    private StateLock(FileStream stream) => _stream = stream;

    public static StateLock Acquire(HostPaths paths, TimeSpan wait)
    {
        var relative = HostPaths.State("lock");
        SafePath.Check(paths, relative);
        var path = paths.Resolve(relative);
        AtomicFile.CreateDirectory(Path.GetDirectoryName(path)!);
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            if (TryAcquire(path) is { } stream)
            {
                return new StateLock(stream);
            }
            if (DateTime.UtcNow >= deadline)
            {
                throw new IOException($"another node-agent holds {path}; gave up after {wait.TotalSeconds:0} s");
            }
            Thread.Sleep(100);
        }
    }

    // .NET takes an advisory lock of its own when it opens a file, so while another process holds
    // the flock the open itself can fail: either way the lock is held and the caller waits.
    private static FileStream? TryAcquire(string path)
    {
        FileStream stream;
        try
        {
            stream = HostAccessException.Guard(path, "open the lock file", () => new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.ReadWrite,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }));
        }
        catch (IOException e) when (e.HResult == SharingViolation)
        {
            return null;
        }
        if (TryLock(stream.SafeFileHandle))
        {
            return stream;
        }
        stream.Dispose();
        return null;
    }

    private static bool TryLock(SafeFileHandle handle)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return NativeMethods.Flock((int)handle.DangerousGetHandle(), NativeMethods.LockExclusive | NativeMethods.LockNonBlocking) == 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}

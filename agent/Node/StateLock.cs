using Microsoft.Win32.SafeHandles;

namespace NodeAgent.Node;

/// <summary>
/// An exclusive <c>flock</c> on <c>var/lib/node-agent/lock</c>, so two node-agent processes (a
/// bootstrap <c>--once</c> and the daemon, say) never interleave their writes.
/// </summary>
public sealed class StateLock : IDisposable
{
    private readonly FileStream _stream;

    private StateLock(FileStream stream) => _stream = stream;

    public static StateLock Acquire(HostPaths paths, TimeSpan wait)
    {
        var relative = HostPaths.State("lock");
        SafePath.Check(paths, relative);
        var path = paths.Resolve(relative);
        AtomicFile.CreateDirectory(Path.GetDirectoryName(path)!);
        // FileShare.ReadWrite: the exclusion comes from flock below, not from .NET's own sharing check.
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        var deadline = DateTime.UtcNow + wait;
        while (!TryLock(stream.SafeFileHandle))
        {
            if (DateTime.UtcNow >= deadline)
            {
                stream.Dispose();
                throw new IOException($"another node-agent holds {path}; gave up after {wait.TotalSeconds:0} s");
            }
            Thread.Sleep(100);
        }
        return new StateLock(stream);
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

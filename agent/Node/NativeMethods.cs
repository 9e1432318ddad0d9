using System.Runtime.InteropServices;

namespace NodeAgent.Node;

/// <summary>The few libc calls .NET has no API for: fsync of a directory and flock.</summary>
internal static partial class NativeMethods
{
    public const int ORdonly = 0;
    public const int ODirectory = 0x10000;
    public const int OCloexec = 0x80000;
    public const int LockExclusive = 2;
    public const int LockNonBlocking = 4;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);
}

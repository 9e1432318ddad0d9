using System.Runtime.InteropServices;

namespace NodeAgent.Cluster;

/// <summary>
/// Reads a manifest only if it is a regular file (after following links), and never more than a
/// limit: a FIFO would block the read forever and a link to /dev/zero would never end.
/// </summary>
internal static partial class RegularFile
{
    // The .NET runtime's own portable stat (System.Native): its FileStatus starts with
    // int Flags, int Mode, whatever the C library's struct stat looks like.
    private const int FileTypeMask = 0xF000;
    private const int RegularFileType = 0x8000;
    private const int FileStatusBufferBytes = 512;

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Stat(string path, byte* output);

    public static unsafe bool IsRegular(string path)
    {
        var buffer = stackalloc byte[FileStatusBufferBytes];
        if (Stat(path, buffer) != 0)
        {
            return false;
        }
        var mode = *(int*)(buffer + sizeof(int));
        return (mode & FileTypeMask) == RegularFileType;
    }

    /// <summary>The file's bytes, or null when it holds more than <paramref name="maxBytes"/>.</summary>
    public static byte[]? ReadBounded(string path, long maxBytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}

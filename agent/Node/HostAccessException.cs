namespace NodeAgent.Node;

/// <summary>
/// A file or directory below the root that node-agent may not read or write: permission denied,
/// or a read-only file system. Its message names the path and the operation
/// (<c>cannot create the directory /host/var: permission denied</c>), which .NET's own
/// <see cref="UnauthorizedAccessException"/> does not always do in a form worth printing.
/// </summary>
public sealed class HostAccessException : IOException
{
    // EROFS: .NET keeps the errno of an error it has no exception type for in HResult.
    private const int ReadOnlyFileSystem = 30;

    private HostAccessException(string path, string operation, bool readOnly, Exception inner)
        : base($"cannot {operation} {path}: {(readOnly ? "read-only file system" : "permission denied")}", inner)
    {
        Path = path;
        ReadOnly = readOnly;
    }

    /// <summary>The absolute path that could not be read or written.</summary>
    public string Path { get; }

    /// <summary>True when the file system is mounted read-only; false for permission denied.</summary>
    public bool ReadOnly { get; }

    /// <summary>What a person can do about it when node-agent writes below the root.</summary>
    public string WriteAdvice => ReadOnly
        ? "the file system is mounted read-only: give a --root on a writable one"
        : "run node-agent as root, or give a --root this user can write";

    /// <summary>
    /// Runs <paramref name="action"/>; a permission or read-only failure on <paramref name="path"/>
    /// comes out as a <see cref="HostAccessException"/> saying <paramref name="operation"/>.
    /// </summary>
    public static T Guard<T>(string path, string operation, Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return action();
        }
        catch (Exception e) when (Applies(e))
        {
            throw For(path, operation, e);
        }
    }

    /// <summary>True for the failures this type stands for: permission denied, a read-only file system.</summary>
    public static bool Applies(Exception e) =>
        e is UnauthorizedAccessException || (e is IOException { HResult: ReadOnlyFileSystem } and not HostAccessException);

    /// <summary><paramref name="e"/> (one that <see cref="Applies"/>) as a failure to <paramref name="operation"/> <paramref name="path"/>.</summary>
    public static HostAccessException For(string path, string operation, Exception e) =>
        new(path, operation, readOnly: e is not UnauthorizedAccessException, e);

    /// <inheritdoc cref="Guard{T}(string, string, Func{T})"/>
    public static void Guard(string path, string operation, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Guard(path, operation, () =>
        {
            action();
            return true;
        });
    }
}

using NodeAgent.Node;
using NodeAgent.Rendering;

namespace NodeAgent.Sync;

/// <summary>
/// The checks shared by the files node-agent keeps per registry host (CA files, containerd's
/// hosts.toml): refusing a path that is unsafe to write, and letting go of one no longer wanted.
/// Refusing or keeping one registry's file never stops the others.
/// </summary>
public static class RegistryFilePaths
{
    /// <summary>
    /// Why <paramref name="file"/> cannot be written or removed, or null: a symbolic link on the way,
    /// or something other than a directory or a file where each is expected.
    /// </summary>
    public static string? Unusable(string file, HostPaths paths)
    {
        try
        {
            SafePath.Check(paths, file);
        }
        catch (UnsafePathException e)
        {
            return e.Message;
        }
        var directory = paths.Resolve(Path.GetDirectoryName(file)!);
        if (File.Exists(directory))
        {
            return $"{directory} is a file, not a directory";
        }
        return Directory.Exists(paths.Resolve(file)) ? $"{paths.Resolve(file)} is a directory, not a file" : null;
    }

    /// <summary>
    /// Releases a file node-agent wrote and no longer wants (removed, or the admin's original put
    /// back), unless its path became unsafe, which is reported and leaves it as it is.
    /// </summary>
    public static void Release(string managed, HostPaths paths, List<DesiredFile> desired, List<Problem> problems)
    {
        if (Unusable(managed, paths) is { } reason)
        {
            problems.Add(Problem.Warning(new FieldRef($"/{managed}", ""), $"left as it is: {reason}"));
            return;
        }
        desired.Add(new DesiredFile(managed, null));
    }
}

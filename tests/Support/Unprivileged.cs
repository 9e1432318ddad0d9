namespace NodeAgent.Tests.Support;

/// <summary>
/// Runs <c>bin/node-agent</c> as a user without root's powers, as a new user runs it: as
/// <c>nobody</c> (through util-linux's <c>setpriv</c>) when the tests run as root, otherwise as the
/// tests' own user. Permission checks mean nothing to root, so this is how they are tested for real.
/// </summary>
public static class Unprivileged
{
    private const string Nobody = "65534";

    private static readonly string[] SetprivPaths = ["/usr/bin/setpriv", "/bin/setpriv"];

    /// <summary>True when the runs below are <c>nobody</c>, not the tests' own (non-root) user.</summary>
    public static bool AsNobody => Environment.IsPrivilegedProcess;

    public static ProcessResult Run(IReadOnlyList<string> args, IDictionary<string, string>? environment = null)
    {
        if (!AsNobody)
        {
            return NodeAgentProcess.Run(args, environment);
        }
        var setpriv = SetprivPaths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("setpriv (util-linux) is not installed; the tests run as root and use it to run node-agent as nobody");
        return NodeAgentProcess.Execute(setpriv, [$"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", RepoPaths.Binary, .. args],
            NodeAgentProcess.AgentEnvironment(environment));
    }

    /// <summary>
    /// Lets everyone through each directory from <paramref name="top"/> down to
    /// <paramref name="path"/>, both included (a <see cref="TempRoot"/> is 0700): what is tested is
    /// the directory the test means, not one above it.
    /// </summary>
    public static void OpenToEveryone(string top, string path)
    {
        var full = Path.GetFullPath(path);
        var stop = Path.GetFullPath(top);
        for (var directory = full; directory is not null && directory.StartsWith(stop, StringComparison.Ordinal); directory = Path.GetDirectoryName(directory))
        {
            if (Directory.Exists(directory))
            {
                File.SetUnixFileMode(directory, File.GetUnixFileMode(directory) | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }
        }
    }
}

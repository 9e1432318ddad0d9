namespace NodeAgent.Tests.Support;

/// <summary>Where the repository, its test data and the built binary are.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string TestData => Path.Join(Root, "tests", "testdata");

    public static string Examples => Path.Join(Root, "examples");

    /// <summary>
    /// The <c>bin/node-agent</c> that <c>make build</c> produced; <c>NODE_AGENT_BIN</c> overrides it.
    /// Tests that run the binary fail with a clear message when it is missing.
    /// </summary>
    public static string Binary
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("NODE_AGENT_BIN") is { Length: > 0 } env ? env : Path.Join(Root, "bin", "node-agent");
            return File.Exists(path)
                ? path
                : throw new InvalidOperationException($"{path} does not exist: run 'make build' (or 'make test', which builds first)");
        }
    }

    /// <summary>
    /// The self-contained, trimmed build <c>make publish</c> produced at
    /// <c>dist/publish/linux-x64/node-agent</c>; <c>NODE_AGENT_PUBLISHED</c> overrides it. Missing is
    /// a failure, never a skip: <c>make test</c> publishes first.
    /// </summary>
    public static string PublishedBinary
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("NODE_AGENT_PUBLISHED") is { Length: > 0 } env
                ? env
                : Path.Join(Root, "dist", "publish", "linux-x64", "node-agent");
            return File.Exists(path)
                ? path
                : throw new InvalidOperationException($"{path} does not exist: run 'make publish' (or 'make test', which publishes first)");
        }
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Join(directory.FullName, "NodeAgent.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("cannot find NodeAgent.sln above the test binaries");
    }
}

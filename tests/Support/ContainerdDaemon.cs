using System.Diagnostics;

namespace NodeAgent.Tests.Support;

/// <summary>
/// A private containerd for one test class: root, state and sockets in a scratch directory, the
/// CRI plugin off, nothing of the machine's containerd (configuration, socket, content) used or
/// touched. It only stores content: <c>ctr images pull</c> resolves and fetches on the client
/// side, reading the hosts directory given with <c>--hosts-dir</c>, which is what is under test.
/// <see cref="Start"/> returns once <c>ctr version</c> answers (deadline, no fixed sleeps);
/// <see cref="Dispose"/> kills the daemon it started and deletes its directory.
/// </summary>
public sealed class ContainerdDaemon : IDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(20);

    private readonly TempRoot _scratch;
    private readonly LoggedProcess _process;

    private ContainerdDaemon(TempRoot scratch)
    {
        _scratch = scratch;
        Socket = scratch.File("containerd.sock");
        var config = scratch.Write("config.toml", $"""
            version = 2
            root = "{scratch.File("root")}"
            state = "{scratch.File("state")}"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]

            [grpc]
              address = "{Socket}"

            [ttrpc]
              address = "{Socket}.ttrpc"

            [debug]
              address = ""

            [metrics]
              address = ""
            """);
        _process = new LoggedProcess(NodeAgentProcess.StartInfo(DaemonProgram!, ["--config", config], new Dictionary<string, string?>()));
    }

    /// <summary><c>containerd</c> on PATH; null when missing.</summary>
    public static string? DaemonProgram { get; } = Requires.OnPath("containerd");

    /// <summary><c>ctr</c>, containerd's own client (same package); null when missing.</summary>
    public static string? CtrProgram { get; } = Requires.OnPath("ctr");

    /// <summary>Null when a private containerd can run here, else why not (the skip reason).</summary>
    public static string? Unavailable =>
        DaemonProgram is null || CtrProgram is null ? "containerd (containerd and ctr) is not installed: apt-get install containerd (make deps does it as root)"
        : !File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0")
            ? "containerd needs root to run its own content store here"
            : null;

    /// <summary>The daemon's gRPC socket, for <c>ctr --address</c>.</summary>
    public string Socket { get; }

    public string Log => _process.Log;

    public static ContainerdDaemon Start()
    {
        var daemon = new ContainerdDaemon(new TempRoot("containerd"));
        try
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                if (daemon._process.HasExited)
                {
                    throw new InvalidOperationException($"containerd exited with {daemon._process.ExitCode}\n{daemon.Log}");
                }
                if (File.Exists(daemon.Socket) && NodeAgentProcess.RunProgram(CtrProgram!, ["--address", daemon.Socket, "version"]).ExitCode == 0)
                {
                    return daemon;
                }
                if (deadline.Elapsed > StartDeadline)
                {
                    throw new TimeoutException($"containerd did not answer on {daemon.Socket} within {StartDeadline.TotalSeconds} s\n{daemon.Log}");
                }
                daemon._process.WaitForExit(100);
            }
        }
        catch
        {
            daemon.Dispose();
            throw;
        }
    }

    /// <summary><c>ctr --address SOCKET ARGS</c> in the test's own namespace (listing what a pull stored).</summary>
    public ProcessResult Ctr(params string[] args) => NodeAgentProcess.RunProgram(CtrProgram!, ["--address", Socket, .. args]);

    public void Dispose()
    {
        _process.Dispose();
        _scratch.Dispose();
    }
}

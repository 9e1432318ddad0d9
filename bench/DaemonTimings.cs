using System.Diagnostics;
using System.Globalization;
using System.Text;
using NodeAgent.Cluster;
using NodeAgent.Tests.Support;

namespace NodeAgent.Bench;

/// <summary>
/// The daemon measured as it runs: <c>bin/node-agent --kubeconfig …</c> against the in-process
/// fake API server. Latency: the time from an API write (the fake server storing the object and
/// sending the watch event) to the new bytes of registries.conf on disk, seen through inotify,
/// over many changes, on a small cluster and on the large one. Idle: the daemon's resident memory,
/// CPU time and requests to the server over a quiet interval (only the open watches, no polling).
/// Goals: p99 &lt; 250 ms; idle RSS &lt; 40 MB, CPU &lt; 100 ms per minute.
/// </summary>
internal static class DaemonTimings
{
    private const string Usage =
        "usage: daemon [--changes N] [--idle-seconds S] [--bin PATH]\n" +
        "  --changes N       API writes timed per cluster size (default 60, at least 50)\n" +
        "  --idle-seconds S  length of the idle measurement (default 60)\n" +
        "  --bin PATH        the node-agent to run (default: $NODE_AGENT_BIN, else bin/node-agent of this checkout)";

    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchArguments.Parse("daemon", Usage, args, new Dictionary<string, (int, int)> { ["--changes"] = (60, 50), ["--idle-seconds"] = (60, 5) }) is not { } parsed)
        {
            return 2;
        }
        var (changes, idleSeconds, bin) = (parsed.Values["--changes"], parsed.Values["--idle-seconds"], parsed.Bin);
        Environment.SetEnvironmentVariable("NODE_AGENT_BIN", bin);
        var report = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        report.Append(inv, $"\nDaemon: {bin} --kubeconfig <fake API server on 127.0.0.1> --root <temp> --reload-command ''\n");
        report.Append(inv, $"Machine: {Environment.ProcessorCount} CPUs, {ProcessComparison.CpuModel()}; .NET {Environment.Version}\n\n");
        report.Append(inv, $"API write -> new registries.conf bytes on disk, {changes} changes each, ms:\n");
        report.Append(inv, $"{"cluster",-8} {"min",7} {"p50",7} {"p90",7} {"p99",7} {"max",7}\n");
        var idles = new StringBuilder();
        idles.Append(inv, $"\nIdle for {idleSeconds} s after the changes (RSS in MB, CPU in ms per minute, requests to the API server):\n");
        idles.Append(inv, $"{"cluster",-8} {"RSS",7} {"peak",7} {"CPU/min",11} {"requests",9} {"watches",8}\n");
        try
        {
            foreach (var large in new[] { false, true })
            {
                var (latencies, idle) = await MeasureAsync(large, changes, idleSeconds).ConfigureAwait(false);
                latencies.Sort();
                report.Append(inv, $"{(large ? "large" : "small"),-8} {latencies[0],7:0.0} {Percentile(latencies, 50),7:0.0} {Percentile(latencies, 90),7:0.0} {Percentile(latencies, 99),7:0.0} {latencies[^1],7:0.0}\n");
                if (idle is { } i)
                {
                    idles.Append(inv, $"{(large ? "large" : "small"),-8} {i.RssMb,7:0.0} {i.PeakRssMb,7:0.0} {i.CpuMsPerMinute,11:0} {i.Requests,9} {i.OpenWatches,8}\n");
                }
            }
        }
        catch (InvalidOperationException e)
        {
            await Console.Error.WriteLineAsync($"daemon: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        report.Append(idles);
        report.Append("\nGoals: p99 < 250 ms; idle RSS < 40 MB, CPU < 100 ms per minute, no requests but the open watches.\n");
        Console.Out.Write(report.ToString());
        return 0;
    }

    private sealed record Idle(double RssMb, double PeakRssMb, double CpuMsPerMinute, int Requests, int OpenWatches);

    private static async Task<(List<double> Latencies, Idle? Idle)> MeasureAsync(bool large, int changes, int idleSeconds)
    {
        await using var cluster = await FakeCluster.StartAsync().ConfigureAwait(false);
        using var work = new TempRoot("node-agent-daemon-bench");
        var insecure = new List<string> { "insecure.example" };
        if (large)
        {
            var manifests = work.File("large");
            LargeCluster.Write(manifests);
            foreach (var file in Directory.EnumerateFiles(manifests).Order(StringComparer.Ordinal))
            {
                cluster.Apply(File.ReadAllText(file));
            }
            insecure = [.. Enumerable.Range(0, 25).Select(i => $"insecure{i:D2}.lab.example:5000")];
        }
        cluster.Apply(Image(insecure, "start.example"));
        var root = work.File("root");
        var registries = Path.Join(root, "etc", "containers", "registries.conf");
        using var daemon = DaemonProcess.Start(["--kubeconfig", cluster.Kubeconfig, "--root", root, "--reload-command", ""]);
        await daemon.WaitForAsync(() => Contains(registries, "start.example"), "the first sync", TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        await daemon.WaitForAsync(() => cluster.Server.OpenWatches >= FakeCluster.Collections.Count - 1, "every watch open").ConfigureAwait(false);

        using var written = new FileEvents(Path.GetDirectoryName(registries)!);
        var latencies = new List<double>();
        for (var i = 0; i < changes; i++)
        {
            var marker = $"change-{i:D3}.example";
            written.Reset();
            var clock = Stopwatch.StartNew();
            cluster.Apply(Image(insecure, marker));
            while (!Contains(registries, marker))
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(10))
                {
                    throw new InvalidOperationException($"change {i} did not reach {registries} within 10 s\n{daemon.LogText}");
                }
                await written.WaitAsync(TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
            }
            latencies.Add(clock.Elapsed.TotalMilliseconds);
            // Separate changes, not one coalesced burst: each is a pass of its own.
            await Task.Delay(50).ConfigureAwait(false);
        }
        if (idleSeconds == 0)
        {
            return (latencies, null);
        }
        // Let the last pass and the runtime's after-start work settle, then measure a quiet interval.
        await Task.Delay(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        var requestsBefore = cluster.Server.Requests.Count;
        var cpuBefore = CpuMs(daemon.Pid);
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds)).ConfigureAwait(false);
        var cpu = CpuMs(daemon.Pid) - cpuBefore;
        var (rss, peak) = Memory(daemon.Pid);
        return (latencies, new Idle(rss, peak, cpu * 60 / idleSeconds, cluster.Server.Requests.Count - requestsBefore, cluster.Server.OpenWatches));
    }

    private static string Image(IEnumerable<string> insecure, string marker) =>
        "apiVersion: config.openshift.io/v1\nkind: Image\nmetadata:\n  name: cluster\nspec:\n  registrySources:\n    insecureRegistries:\n" +
        string.Concat(insecure.Append(marker).Select(r => $"      - {r}\n"));

    private static bool Contains(string path, string marker)
    {
        try
        {
            return File.Exists(path) && File.ReadAllText(path).Contains(marker, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    // Nearest rank, as in the process comparison.
    private static double Percentile(List<double> sorted, int percent) =>
        sorted[Math.Max(0, (int)Math.Ceiling(percent / 100.0 * sorted.Count) - 1)];

    // utime + stime of /proc/PID/stat (fields 14 and 15, in clock ticks of 10 ms on Linux).
    private static double CpuMs(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
    }

    private static (double RssMb, double PeakMb) Memory(int pid)
    {
        double Kb(string field) => double.Parse(
            File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field, StringComparison.Ordinal))[field.Length..].Trim().Split(' ')[0],
            CultureInfo.InvariantCulture);
        return (Kb("VmRSS:") / 1024, Kb("VmHWM:") / 1024);
    }

    /// <summary>inotify on a directory: wakes the waiter when a file there is created or renamed into place.</summary>
    private sealed class FileEvents : IDisposable
    {
        private readonly FileSystemWatcher _watcher;
        private readonly SemaphoreSlim _signal = new(0);

        public FileEvents(string directory)
        {
            _watcher = new FileSystemWatcher(directory) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite };
            _watcher.Renamed += (_, _) => _signal.Release();
            _watcher.Created += (_, _) => _signal.Release();
            _watcher.Changed += (_, _) => _signal.Release();
            _watcher.EnableRaisingEvents = true;
        }

        public void Reset()
        {
            while (_signal.Wait(0))
            {
            }
        }

        public Task<bool> WaitAsync(TimeSpan timeout) => _signal.WaitAsync(timeout);

        public void Dispose()
        {
            _watcher.Dispose();
            _signal.Dispose();
        }
    }
}

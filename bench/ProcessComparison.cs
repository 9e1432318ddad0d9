using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using NodeAgent.Tests.Support;

namespace NodeAgent.Bench;

/// <summary>
/// Whole-process wall time of <c>node-agent --once</c> on the large cluster against an empty
/// manifests directory: runtime start-up, JIT, parsing, render and the atomic writes included.
/// Every run gets a fresh <c>--root</c>, so the files are really written. Runs alternate between
/// the two inputs (and which goes first) so drift in the machine's speed hits both alike.
/// Goal: median ratio large/empty ≤ 1.3; it must stay under 2.0. CPU time (user + system, all
/// threads) is shown too: on a busy machine it moves less than wall time.
/// </summary>
internal static partial class ProcessComparison
{
    private const double Goal = 1.3;
    private const double Limit = 2.0;

    private const string Usage =
        "usage: process [--runs N] [--warmup N] [--bin PATH]\n" +
        "  --runs N     measured runs per input, alternating (default 30, at least 20)\n" +
        "  --warmup N   unmeasured runs per input first (default 5)\n" +
        "  --bin PATH   the node-agent to run (default: $NODE_AGENT_BIN, else bin/node-agent of this checkout)";

    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchArguments.Parse("process", Usage, args, new Dictionary<string, (int, int)> { ["--runs"] = (30, 20), ["--warmup"] = (5, 0) }) is not { } parsed)
        {
            return 2;
        }
        var (runs, warmup, bin) = (parsed.Values["--runs"], parsed.Values["--warmup"], parsed.Bin);

        var work = Directory.CreateTempSubdirectory("node-agent-process-").FullName;
        try
        {
            var inputs = new[] { new Input("empty", Path.Join(work, "empty")), new Input("large", Path.Join(work, "large")) };
            Directory.CreateDirectory(inputs[0].Manifests);
            LargeCluster.Write(inputs[1].Manifests);

            var run = 0;
            for (var i = 0; i < warmup; i++)
            {
                foreach (var input in inputs)
                {
                    await TimeOnceAsync(bin, input, Path.Join(work, $"root-{run++}")).ConfigureAwait(false);
                }
            }
            var times = inputs.ToDictionary(i => i.Name, _ => new List<Sample>());
            for (var i = 0; i < runs; i++)
            {
                foreach (var input in i % 2 == 0 ? inputs : inputs.Reverse())
                {
                    times[input.Name].Add(await TimeOnceAsync(bin, input, Path.Join(work, $"root-{run++}")).ConfigureAwait(false));
                }
            }
            Console.Out.Write(Report(bin, runs, warmup, inputs, times));
            return 0;
        }
        catch (InvalidOperationException e)
        {
            await Console.Error.WriteLineAsync($"process: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private sealed record Input(string Name, string Manifests);

    private readonly record struct Sample(double WallMs, double CpuMs);

    /// <summary>Wall and CPU milliseconds from start to exit of one <c>--once</c> run into a root that does not exist yet.</summary>
    private static async Task<Sample> TimeOnceAsync(string bin, Input input, string root)
    {
        var start = new ProcessStartInfo(bin)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["--once", "--manifests", input.Manifests, "--root", root, "--reload-command", ""])
        {
            start.ArgumentList.Add(argument);
        }
        var cpuBefore = ChildrenCpuMs();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {bin}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        var elapsed = clock.Elapsed.TotalMilliseconds;
        await output.ConfigureAwait(false);
        var diagnostics = await errors.ConfigureAwait(false);
        var written = Path.Join(root, "etc", "containers", "registries.conf");
        if (process.ExitCode != 0 || !File.Exists(written))
        {
            throw new InvalidOperationException($"{input.Name}: node-agent exited {process.ExitCode} without writing {written}:\n{diagnostics}");
        }
        Directory.Delete(root, recursive: true);
        return new Sample(elapsed, ChildrenCpuMs() - cpuBefore);
    }

    private static string Report(string bin, int runs, int warmup, Input[] inputs, Dictionary<string, List<Sample>> times)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"\nWhole process: {bin} --once --manifests DIR --root <fresh> --reload-command ''\n");
        sb.Append(inv, $"Machine: {Environment.ProcessorCount} CPUs, {CpuModel()}; .NET {Environment.Version}\n");
        sb.Append(inv, $"Runs: {warmup} warm-up + {runs} measured per input, alternating; times in ms\n\n");
        sb.Append(inv, $"{"Input",-7} {"Files",5} {"Wall min",9} {"median",8} {"p90",8} {"CPU median",11}\n");
        foreach (var input in inputs)
        {
            var wall = times[input.Name].Select(t => t.WallMs).Order().ToList();
            var cpu = times[input.Name].Select(t => t.CpuMs).Order().ToList();
            var files = Directory.EnumerateFiles(input.Manifests).Count();
            sb.Append(inv, $"{input.Name,-7} {files,5} {wall[0],9:0.0} {Percentile(wall, 50),8:0.0} {Percentile(wall, 90),8:0.0} {Percentile(cpu, 50),11:0.0}\n");
        }
        double Median(string name, Func<Sample, double> value) => Percentile(times[name].Select(value).Order().ToList(), 50);
        var ratio = Median("large", t => t.WallMs) / Median("empty", t => t.WallMs);
        var cpuRatio = Median("large", t => t.CpuMs) / Median("empty", t => t.CpuMs);
        var verdict = ratio <= Goal ? "within the goal" : ratio < Limit ? "over the goal, under the limit" : "OVER THE LIMIT";
        sb.Append(inv, $"\nMedian ratio large/empty: {ratio:0.00} wall (goal <= {Goal:0.0}, limit < {Limit:0.0}: {verdict}); {cpuRatio:0.00} CPU\n");
        return sb.ToString();
    }

    // Nearest rank: the smallest value with at least p% of the runs at or below it.
    private static double Percentile(List<double> sorted, int percent) =>
        sorted[Math.Max(0, (int)Math.Ceiling(percent / 100.0 * sorted.Count) - 1)];

    internal static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "unknown CPU" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }

    // User + system time of every child this process has waited for; .NET reaps each run's
    // process before WaitForExitAsync returns, so the difference around one run is that run.
    private static double ChildrenCpuMs()
    {
        if (GetRUsage(RUsageChildren, out var usage) != 0)
        {
            throw new InvalidOperationException($"getrusage failed (errno {Marshal.GetLastPInvokeError()})");
        }
        return ((usage.UserSeconds + usage.SystemSeconds) * 1000.0) + ((usage.UserMicroseconds + usage.SystemMicroseconds) / 1000.0);
    }

    private const int RUsageChildren = -1;

    // struct rusage on 64-bit Linux: two timevals, then fourteen longs this class does not read.
    [StructLayout(LayoutKind.Sequential, Size = 144)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
    }

    [LibraryImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static partial int GetRUsage(int who, out RUsage usage);

    // bin/node-agent of the checkout this benchmark was built from (bench/bin/Release/net10.0/ → ../../../../).
    internal static string? DefaultBinary()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Join(directory.FullName, "NodeAgent.sln")))
            {
                return Path.Join(directory.FullName, "bin", "node-agent");
            }
        }
        return null;
    }
}

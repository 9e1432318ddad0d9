using BenchmarkDotNet.Running;

namespace NodeAgent.Bench;

/// <summary>
/// <c>make bench</c>: with no arguments, the BenchmarkDotNet suite and then the whole-process
/// comparison and the daemon's latency and idle figures; <c>process [options]</c> runs only the
/// comparison, <c>daemon [options]</c> only the daemon's figures; <c>demo-daemon ROOT</c> is
/// <c>make demo-daemon</c> (the fake API server lives here with the timings); anything else goes to
/// BenchmarkDotNet (<c>--filter *Render_Large*</c>, <c>--list flat</c>, …).
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["process", .. var processArgs])
        {
            return await ProcessComparison.RunAsync(processArgs).ConfigureAwait(false);
        }
        if (args is ["demo-daemon", var root])
        {
            return await DaemonDemo.RunAsync(Path.GetFullPath(root)).ConfigureAwait(false);
        }
        if (args is ["daemon", .. var daemonArgs])
        {
            return await DaemonTimings.RunAsync(daemonArgs).ConfigureAwait(false);
        }
        if (args.Length > 0)
        {
            return RunBenchmarks(args);
        }
        // Without arguments BenchmarkDotNet would ask which benchmark to run; run them all.
        var benchmarks = RunBenchmarks(["--filter", "*"]);
        var process = await ProcessComparison.RunAsync([]).ConfigureAwait(false);
        var daemon = await DaemonTimings.RunAsync([]).ConfigureAwait(false);
        return new[] { benchmarks, process, daemon }.FirstOrDefault(code => code != 0);
    }

    private static int RunBenchmarks(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        var failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }
}

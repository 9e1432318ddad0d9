using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace NodeAgent.Tests.Node;

/// <summary>
/// Crash safety (style.md habit 4, AtomicFile): node-agent killed with SIGKILL at any moment of a
/// large render leaves every runtime file byte-for-byte the complete old or the complete new
/// version and its state file readable, and the next run converges and leaves no temp file.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    private const string RegistriesConf = "etc/containers/registries.conf";
    private const string PolicyJson = "etc/containers/policy.json";
    private const string StateJson = "var/lib/node-agent/state.json";
    private const int MinimumKills = 40;
    private const int MaximumKills = 150;

    // Kills go on past the minimum for this long, so the whole test stays within about a minute.
    private static readonly TimeSpan KillBudget = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RunDeadline = TimeSpan.FromSeconds(60);

    private enum KillMoment
    {
        BeforeWriting,
        DuringWriting,
        AfterWriting,
        ExitedFirst,
    }

    [Fact]
    public void Sigkill_at_any_moment_leaves_complete_old_or_new_files()
    {
        var seed = Environment.GetEnvironmentVariable("NODE_AGENT_CRASH_SEED") is { Length: > 0 } fixedSeed
            ? int.Parse(fixedSeed, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        output.WriteLine($"seed {seed} (NODE_AGENT_CRASH_SEED={seed} replays the same delays)");
        var random = new Random(seed);

        using var input = new TempRoot("node-agent-crash-input");
        var variants = new[] { Path.Join(input.Path, "old"), Path.Join(input.Path, "new") };
        LargeCluster.Write(variants[0], variant: 0);
        LargeCluster.Write(variants[1], variant: 1);
        var expected = variants.Select(RenderFresh).ToArray();
        expected[0][RegistriesConf].Should().NotEqual(expected[1][RegistriesConf], "the two variants must differ for the test to mean anything");

        using var root = new TempRoot("node-agent-crash-root");
        using var changes = new ChangeWatcher(root.Path);

        // Old, new, old: the last two runs replace every file, as the killed runs do. Their end
        // states are what a completed run leaves; their timings size the kill delays.
        var durations = new List<TimeSpan>();
        var writing = new List<TimeSpan>();
        var completed = new SortedDictionary<string, string>[2];
        foreach (var variant in new[] { 0, 1, 0 })
        {
            changes.Reset();
            var clock = Stopwatch.StartNew();
            RunToCompletion(variants[variant], root.Path);
            durations.Add(clock.Elapsed);
            writing.Add(clock.Elapsed - changes.FirstChangeAt);
            completed[variant] = root.Snapshot();
        }
        var maxDelay = TimeSpan.FromMilliseconds(durations.Skip(1).Max(d => d.TotalMilliseconds) * 1.25);
        var maxWriting = TimeSpan.FromMilliseconds(writing.Skip(1).Max(d => d.TotalMilliseconds) + 10);
        output.WriteLine($"uninterrupted runs: {string.Join(", ", durations.Zip(writing, (d, w) => $"{d.TotalMilliseconds:0} ms (the last {w.TotalMilliseconds:0} ms writing)"))}");
        output.WriteLine($"kills: half after a delay in 0..{maxDelay.TotalMilliseconds:0} ms from the start, " +
            $"half in 0..{maxWriting.TotalMilliseconds:0} ms after the first change below the root");

        var moments = new Dictionary<KillMoment, int>();
        var killing = Stopwatch.StartNew();
        var lastVariant = 0;
        var kills = 0;
        for (; kills < MinimumKills || (killing.Elapsed < KillBudget && kills < MaximumKills); kills++)
        {
            // Writing is a few percent of a run: uniform delays alone would almost never land in it.
            var variant = kills % 2 == 0 ? 1 : 0;
            var afterFirstChange = random.Next(2) == 1;
            var delay = TimeSpan.FromMilliseconds(random.NextDouble() * (afterFirstChange ? maxWriting : maxDelay).TotalMilliseconds);
            var context = $"seed {seed}, kill {kills}, variant {variant}, {delay.TotalMilliseconds:0} ms after {(afterFirstChange ? "the first change" : "the start")}";
            var before = root.Snapshot();

            changes.Reset();
            using var process = Start(variants[variant], root.Path);
            if (afterFirstChange)
            {
                changes.WaitForFirstChange(maxDelay);
            }
            var exitedFirst = process.WaitForExit(delay);
            if (!exitedFirst)
            {
                process.Kill();
            }
            process.WaitForExit(RunDeadline).Should().BeTrue(context);
            if (exitedFirst)
            {
                process.ExitCode.Should().Be(0, $"a run that was not killed succeeds; {context}");
            }
            lastVariant = variant;

            AssertCompleteOldOrNew(root, expected, context);
            var after = root.Snapshot();
            var moment = exitedFirst ? KillMoment.ExitedFirst
                : SameFiles(after, before) ? KillMoment.BeforeWriting
                : SameFiles(after, completed[variant]) ? KillMoment.AfterWriting
                : KillMoment.DuringWriting;
            moments[moment] = moments.GetValueOrDefault(moment) + 1;
        }
        output.WriteLine($"{kills} runs in {killing.Elapsed.TotalSeconds:0.0} s: " +
            string.Join(", ", Enum.GetValues<KillMoment>().Select(m => $"{m} {moments.GetValueOrDefault(m)}")));

        var last = RunToCompletion(variants[lastVariant], root.Path);
        var final = $"seed {seed}, final run on variant {lastVariant}";
        last.Stderr.Should().NotContain("drift:", $"writes a killed run made are node-agent's own, never another writer's; {final}");
        File.ReadAllBytes(root.File(RegistriesConf)).Should().Equal(expected[lastVariant][RegistriesConf], final);
        File.ReadAllBytes(root.File(PolicyJson)).Should().Equal(expected[lastVariant][PolicyJson], final);
        AssertStateParses(root, final);
        TempFiles(root.Path).Should().BeEmpty($"a completed run leaves no temp file anywhere below the root; {final}");
    }

    private static void AssertCompleteOldOrNew(TempRoot root, Dictionary<string, byte[]>[] expected, string context)
    {
        foreach (var file in new[] { RegistriesConf, PolicyJson })
        {
            var actual = File.ReadAllBytes(root.File(file));
            var matches = expected.Any(e => e[file].AsSpan().SequenceEqual(actual));
            matches.Should().BeTrue($"{file} ({actual.Length} bytes) is the complete old or new version; {context}");
        }
        AssertStateParses(root, context);
    }

    private static void AssertStateParses(TempRoot root, string context)
    {
        var state = root.File(StateJson);
        if (!File.Exists(state))
        {
            return;
        }
        var parse = () => JsonDocument.Parse(File.ReadAllBytes(state)).Dispose();
        parse.Should().NotThrow($"{StateJson} is always complete JSON; {context}");
    }

    private static bool SameFiles(SortedDictionary<string, string> a, SortedDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var other) && other == kv.Value);

    private static List<string> TempFiles(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f).Contains(".node-agent-", StringComparison.Ordinal) && f.EndsWith(".tmp", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(root, f))
            .ToList();

    private static Dictionary<string, byte[]> RenderFresh(string manifests)
    {
        using var root = new TempRoot("node-agent-crash-expected");
        RunToCompletion(manifests, root.Path);
        return new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [RegistriesConf] = File.ReadAllBytes(root.File(RegistriesConf)),
            [PolicyJson] = File.ReadAllBytes(root.File(PolicyJson)),
        };
    }

    private static ProcessResult RunToCompletion(string manifests, string root)
    {
        var result = NodeAgentProcess.Run(Arguments(manifests, root), timeout: RunDeadline);
        result.ExitCode.Should().Be(0, result.ToString());
        return result;
    }

    private static string[] Arguments(string manifests, string root) =>
        ["--once", "--manifests", manifests, "--root", root, "--reload-command", ""];

    // Started, not run: the test kills it. Output is drained so a full pipe never blocks it.
    private static Process Start(string manifests, string root)
    {
        var info = new ProcessStartInfo(RepoPaths.Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in Arguments(manifests, root))
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("NODEAGENT_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }
        info.Environment.Remove("JOURNAL_STREAM");
        var process = Process.Start(info)!;
        process.StandardInput.Close();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Signals the first change (create, write, rename, delete) below a directory since the last reset.</summary>
    private sealed class ChangeWatcher : IDisposable
    {
        private readonly FileSystemWatcher _watcher;
        private readonly ManualResetEventSlim _changed = new();
        private readonly Stopwatch _clock = new();
        private TimeSpan _firstChangeAt;

        public ChangeWatcher(string directory)
        {
            _watcher = new FileSystemWatcher(directory)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            _watcher.Created += (_, _) => Record();
            _watcher.Changed += (_, _) => Record();
            _watcher.Deleted += (_, _) => Record();
            _watcher.Renamed += (_, _) => Record();
            _watcher.EnableRaisingEvents = true;
        }

        /// <summary>Time from the last <see cref="Reset"/> to the first change after it.</summary>
        public TimeSpan FirstChangeAt
        {
            get
            {
                _changed.IsSet.Should().BeTrue("the run changed something below the root");
                return _firstChangeAt;
            }
        }

        public void Reset()
        {
            _changed.Reset();
            _clock.Restart();
        }

        public bool WaitForFirstChange(TimeSpan timeout) => _changed.Wait(timeout);

        private void Record()
        {
            lock (_changed)
            {
                if (!_changed.IsSet)
                {
                    _firstChangeAt = _clock.Elapsed;
                    _changed.Set();
                }
            }
        }

        public void Dispose()
        {
            _watcher.Dispose();
            _changed.Dispose();
        }
    }
}

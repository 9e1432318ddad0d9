using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NodeAgent.Cluster;
using NodeAgent.Configuration;
using NodeAgent.Logging;
using NodeAgent.Node;
using NodeAgent.Rendering;
using NodeAgent.Sync;

namespace NodeAgent.Hosting;

/// <summary>
/// The daemon: watches keep the cluster in memory, and one loop renders and applies whenever it
/// changed, always from a complete snapshot and with the same <see cref="SyncPass"/> as
/// <c>--once</c>. Changes arriving during a pass coalesce into one more pass. Invalid input keeps
/// the files and waits for the next change; a pass that failed on the node (I/O) is retried with
/// the backoff. Readiness, metrics and systemd notifications report each pass.
/// </summary>
public sealed class Daemon(AgentOptions options, KubeClient client, ILogger logger, SystemdNotifier? notifier, AgentMetrics metrics)
{
    /// <summary>After a stop request, the pass in progress gets this long before it is cancelled, so the process exits within 5 s.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(4);

    /// <summary>How long the loop must be idle after a pass before the memory of the pass is returned.</summary>
    private static readonly TimeSpan TrimAfter = TimeSpan.FromSeconds(2);

    /// <summary>Added to a held-back restore's due time, so a timer that fires a little early never wakes a pass that would still have to wait.</summary>
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(10);

    private readonly object _lock = new();
    private bool _listsComplete;
    private string _waiting = "the initial lists";
    private SyncResult? _last;
    private HashSet<string> _warningsLogged = new(StringComparer.Ordinal);
    private HashSet<string> _warningsThisPass = new(StringComparer.Ordinal);
    private long _passStartedTicks;
    private bool _trimPending;
    private DateTimeOffset? _caExpiry;

    /// <summary>Set when listening, for tests and the start-up log: the address actually bound.</summary>
    public System.Net.IPEndPoint? ListeningOn { get; private set; }

    /// <summary>What <c>/readyz</c> answers: ready only with the initial lists complete and the last pass a success.</summary>
    public Readiness Readiness()
    {
        lock (_lock)
        {
            if (!_listsComplete)
            {
                return new Readiness(false, $"waiting for {_waiting}");
            }
            return _last switch
            {
                null => new Readiness(false, "the first sync has not finished"),
                { Succeeded: true } last => new Readiness(true, last.Summary),
                var last => new Readiness(false, $"last sync {Describe(last.Outcome)}: {last.Summary}"),
            };
        }
    }

    /// <summary>Runs until <paramref name="stop"/> fires, then finishes the pass in progress and returns.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var watcher = new ClusterWatcher(client, new WatchScope(options.CaNamespace, options.ManagedCaConfigMap),
            new WatchTiming { BackoffCap = TimeSpan.FromSeconds(options.BackoffCapSeconds) }, logger, metrics.WatchRestarted, TimeProvider.System);
        var server = client.Server.ToString();
        var watched = watcher.Describe();
        Log.Watching(logger, server, client.Source, watched);
        StatusEndpoints? endpoints = null;
        if (options.Listen is { Length: > 0 } listen)
        {
            endpoints = await StatusEndpoints.StartAsync(listen, Readiness, new PrometheusText(metrics.Meter), stop).ConfigureAwait(false);
            ListeningOn = endpoints.Bound;
            var bound = endpoints.Bound.ToString();
            Log.Listening(logger, bound);
        }
        using var passCancel = new CancellationTokenSource();
        using var graceOnStop = stop.Register(() => passCancel.CancelAfter(StopGrace));
        // The watches end with the loop, also when the loop fails: a failure then ends the process
        // (and systemd or kubelet restarts it) instead of leaving watches running with no one to apply.
        using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var watching = Task.Run(() => watcher.RunAsync(watchStop.Token), CancellationToken.None);
        var watchdog = WatchdogAsync(stop);
        try
        {
            await ReconcileLoopAsync(watcher, passCancel.Token, stop).ConfigureAwait(false);
        }
        finally
        {
            Notify("STOPPING=1");
            metrics.SetReady(false);
            await watchStop.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
            await watchdog.ConfigureAwait(false);
            if (endpoints is not null)
            {
                await endpoints.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task ReconcileLoopAsync(ClusterWatcher watcher, CancellationToken passToken, CancellationToken stop)
    {
        var drift = new DriftGuard(TimeSpan.FromSeconds(options.DriftBackoffSeconds), TimeProvider.System);
        var pass = new SyncPass(options, logger, Report, drift) { RecordInvalidInput = true };
        var reporter = options.ReportStatus ? new NodeReporter(client, options.NodeName!, logger) : null;
        var caAlerts = new CaExpiryAlerts();
        IReadOnlyDictionary<string, DateTimeOffset> caExpiry = new Dictionary<string, DateTimeOffset>();
        var store = new StateStore(new HostPaths(options.Root));
        using var files = new ManagedFileWatcher(store.Paths, HostPaths.WrittenTrees(options.CertsTargets), error => Log.FileWatchFailed(logger, error));
        var trees = string.Join(", ", files.Trees);
        Log.WatchingFiles(logger, trees, drift.Base.TotalSeconds);
        files.Arm();
        var retry = new Backoff(TimeSpan.FromSeconds(options.BackoffCapSeconds));
        long? retryAt = null;
        var readySent = false;
        var waitingLogged = "";
        var passAgain = false;
        while (!stop.IsCancellationRequested)
        {
            if (!passAgain)
            {
                var wake = await WaitAsync(watcher, files, Earliest(Earliest(retryAt, drift.NextDue() + TimerSlack), UntilCaThreshold(caExpiry)), stop).ConfigureAwait(false);
                if (wake == Wake.Stop)
                {
                    return;
                }
                if (wake == Wake.Files && !DriftNeedsPass(files.Take(), store, drift))
                {
                    continue;
                }
            }
            passAgain = false;
            // Read before the snapshot: a kind listed in between then shows in the snapshot, so an
            // incomplete snapshot after a complete first round really means a list failed.
            var firstRoundAttempted = watcher.FirstRoundAttempted;
            var snapshot = watcher.Snapshot();
            if (!snapshot.Complete)
            {
                lock (_lock)
                {
                    _waiting = snapshot.Waiting;
                }
                if (snapshot.Waiting != waitingLogged)
                {
                    Log.WaitingForSnapshot(logger, snapshot.Waiting);
                    waitingLogged = snapshot.Waiting;
                }
                // The first round of lists was tried and some failed: that is the first attempt, and
                // systemd hears about it rather than restarting a node-agent that cannot reach the server.
                if (!readySent && firstRoundAttempted)
                {
                    readySent = Notify($"READY=1\nSTATUS=waiting for {snapshot.Waiting}");
                }
                continue;
            }
            waitingLogged = "";
            var started = Stopwatch.StartNew();
            _warningsThisPass = new HashSet<string>(StringComparer.Ordinal);
            Interlocked.Exchange(ref _passStartedTicks, Environment.TickCount64);
            var result = await pass.RunAsync(snapshot.Snapshot, snapshot.Problems, null, passToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _passStartedTicks, 0);
            _warningsLogged = _warningsThisPass;
            _trimPending = true;
            Finished(result, started.Elapsed);
            if (result.Outcome is not SyncOutcome.InvalidInput)
            {
                caExpiry = result.CaExpiryByHost;
            }
            await ReportAsync(reporter, caAlerts.Due(caExpiry, DateTimeOffset.UtcNow), result, snapshot.Snapshot, passToken).ConfigureAwait(false);
            var status = $"STATUS={Describe(result.Outcome)}: {result.Summary}";
            readySent = Notify(readySent ? status : "READY=1\n" + status) || readySent;
            if (result.Outcome == SyncOutcome.Failed)
            {
                retryAt = Environment.TickCount64 + (long)retry.Next().TotalMilliseconds;
            }
            else
            {
                retry.Reset();
                retryAt = null;
            }
            // A watch that (re)started may have missed changes made before it: look at every file.
            passAgain = files.Arm() && DriftNeedsPass((null, false), store, drift);
        }
    }

    private enum Wake
    {
        Stop,
        Cluster,
        Files,
        Timer,
    }

    // Whether the file changes seen call for a pass now: lost events always do (a full pass finds
    // every drifted file); otherwise a managed file someone else changed that the back-off lets
    // node-agent restore now. One whose restore is held back is due on the timer (NextDue).
    private bool DriftNeedsPass((IReadOnlyCollection<string>? Changed, bool Lost) seen, StateStore store, DriftGuard drift)
    {
        if (seen.Lost)
        {
            return true;
        }
        IReadOnlyList<string> drifted;
        try
        {
            drifted = DriftCheck.Drifted(store, seen.Changed, drift.IsHeld);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // state.json unreadable: the pass says why.
            Log.FileWatchFailed(logger, e.Message);
            return true;
        }
        var now = false;
        foreach (var path in drifted)
        {
            now |= drift.Hold(path) is null;
        }
        return now;
    }

    private static TimeSpan? Earliest(long? retryAt, TimeSpan? driftDue) =>
        Earliest(retryAt is { } at ? TimeSpan.FromMilliseconds(Math.Max(0, at - Environment.TickCount64)) : null, driftDue);

    private static TimeSpan? Earliest(TimeSpan? first, TimeSpan? second) => (first, second) switch
    {
        (null, var d) => d,
        (var r, null) => r,
        var (r, d) => r < d ? r : d,
    };

    // The next CA warning threshold (30 days, 7 days, expiry) wakes one pass, which gives the
    // warning; a day at the most, so the timer stays in range and a clock change is caught.
    private static TimeSpan? UntilCaThreshold(IReadOnlyDictionary<string, DateTimeOffset> caExpiry)
    {
        var now = DateTimeOffset.UtcNow;
        return CaExpiryAlerts.NextCrossing(caExpiry, now) is { } next ? TimeSpan.FromTicks(Math.Min((next - now).Ticks, TimeSpan.TicksPerDay)) : null;
    }

    // CA warnings are logged whatever the settings; with --report-status the pass and the
    // warnings also go to the Node (annotation and Events).
    private async Task ReportAsync(NodeReporter? reporter, IReadOnlyList<CaExpiryAlert> alerts, SyncResult result, Resources.ClusterSnapshot snapshot, CancellationToken cancellationToken)
    {
        foreach (var alert in alerts)
        {
            var notAfter = NodeStatus.Timestamp(alert.NotAfter);
            if (alert.Expired)
            {
                Log.CaExpired(logger, alert.Host, notAfter);
            }
            else
            {
                Log.CaExpiring(logger, alert.Host, notAfter, alert.DaysLeft);
            }
        }
        if (reporter is not null)
        {
            await reporter.ReportPassAsync(result, snapshot, alerts, cancellationToken).ConfigureAwait(false);
        }
    }

    // What ended the wait: a cluster change, a file change, the timer (a retry or a held-back
    // restore is due) or stop. Once a burst of passes is over, the memory of its renders goes
    // back to the node first: the daemon spends nearly all its life idle, and the GC would
    // otherwise keep its peak.
    private async Task<Wake> WaitAsync(ClusterWatcher watcher, ManagedFileWatcher files, TimeSpan? limit, CancellationToken stop)
    {
        if (_trimPending && (limit is null || limit > TrimAfter))
        {
            var idle = Stopwatch.StartNew();
            var early = await NextWakeAsync(watcher, files, TrimAfter, stop).ConfigureAwait(false);
            if (early != Wake.Timer)
            {
                return early;
            }
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            _trimPending = false;
            limit -= idle.Elapsed;
        }
        return await NextWakeAsync(watcher, files, limit is { } l && l < TimeSpan.Zero ? TimeSpan.Zero : limit, stop).ConfigureAwait(false);
    }

    private static async Task<Wake> NextWakeAsync(ClusterWatcher watcher, ManagedFileWatcher files, TimeSpan? limit, CancellationToken stop)
    {
        if (!watcher.Changes.TryPeek(out _) && !files.Changes.TryPeek(out _) && !stop.IsCancellationRequested)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop);
            if (limit is { } time)
            {
                wait.CancelAfter(time);
            }
            var cluster = UntilCancelledAsync(watcher.Changes.WaitToReadAsync(wait.Token));
            var changed = UntilCancelledAsync(files.Changes.WaitToReadAsync(wait.Token));
            await Task.WhenAny(cluster, changed).ConfigureAwait(false);
            await wait.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(cluster, changed).ConfigureAwait(false);
        }
        if (stop.IsCancellationRequested)
        {
            return Wake.Stop;
        }
        if (watcher.Changes.TryRead(out _))
        {
            // The pass looks at every file, so file changes seen so far need no look of their own.
            files.Changes.TryRead(out _);
            files.Take();
            return Wake.Cluster;
        }
        return files.Changes.TryRead(out _) ? Wake.Files : Wake.Timer;
    }

    private static async Task UntilCancelledAsync(ValueTask<bool> waiting)
    {
        try
        {
            await waiting.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Finished(SyncResult result, TimeSpan elapsed)
    {
        var outcome = Describe(result.Outcome);
        if (result.Succeeded)
        {
            Log.Synced(logger, outcome, elapsed.TotalMilliseconds, result.Summary);
        }
        else
        {
            Log.SyncFailed(logger, outcome, elapsed.TotalMilliseconds, result.Summary);
        }
        // Readiness first, then the counters: whoever sees a counter move sees /readyz agree.
        lock (_lock)
        {
            _listsComplete = true;
            _last = result;
        }
        metrics.SetReady(result.Succeeded);
        // A pass that wrote nothing (invalid input, a failure before the CA render) leaves the CA
        // files of the last good pass on disk, so their expiry stays the one to report.
        if (result.CaEarliestExpiry is null && result.Outcome is SyncOutcome.InvalidInput or SyncOutcome.Failed)
        {
            result = result with { CaEarliestExpiry = _caExpiry };
        }
        _caExpiry = result.CaEarliestExpiry;
        metrics.Record(result, DateTimeOffset.UtcNow);
    }

    // Errors every time (they say why nothing was applied); a warning only when it is new, so an
    // unrelated change does not repeat the same warnings.
    private void Report(Problem problem)
    {
        // The log level says error or warning already; the text carries what and where.
        var text = $"{problem.Where}: {problem.Message}";
        if (problem.IsError)
        {
            Log.InputError(logger, text);
            return;
        }
        _warningsThisPass.Add(text);
        if (!_warningsLogged.Contains(text))
        {
            Log.InputWarning(logger, text);
        }
    }

    private bool Notify(string state)
    {
        if (notifier is null)
        {
            return false;
        }
        if (!notifier.Notify(state))
        {
            Log.NotifyFailed(logger, state.Split('\n')[0]);
            return false;
        }
        return true;
    }

    private async Task WatchdogAsync(CancellationToken stop)
    {
        if (notifier?.WatchdogInterval is not { } interval)
        {
            return;
        }
        using var timer = new PeriodicTimer(interval / 2);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                // A pass stuck longer than the watchdog interval (a hung reload command, a wedged
                // file system) stops the pings, and systemd restarts the service as configured.
                var started = Interlocked.Read(ref _passStartedTicks);
                if (started == 0 || Environment.TickCount64 - started < interval.TotalMilliseconds)
                {
                    notifier.Watchdog();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string Describe(SyncOutcome outcome) => outcome switch
    {
        SyncOutcome.Applied => "applied",
        SyncOutcome.Unchanged => "unchanged",
        SyncOutcome.InvalidInput => "invalid input",
        SyncOutcome.RolledBack => "rolled back",
        SyncOutcome.ClusterUnreachable => "cluster unreachable",
        SyncOutcome.DryRun => "dry run",
        _ => "failed",
    };
}

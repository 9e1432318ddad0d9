using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NodeAgent.Cluster;
using NodeAgent.Configuration;
using NodeAgent.Logging;
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

    private readonly object _lock = new();
    private bool _listsComplete;
    private string _waiting = "the initial lists";
    private SyncResult? _last;
    private HashSet<string> _warningsLogged = new(StringComparer.Ordinal);
    private HashSet<string> _warningsThisPass = new(StringComparer.Ordinal);
    private long _passStartedTicks;
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
            new WatchTiming { BackoffCap = TimeSpan.FromSeconds(options.BackoffCapSeconds) }, logger, metrics.WatchRestarted);
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
        var watching = Task.Run(() => watcher.RunAsync(stop), CancellationToken.None);
        var watchdog = WatchdogAsync(stop);
        try
        {
            await ReconcileLoopAsync(watcher, passCancel.Token, stop).ConfigureAwait(false);
        }
        finally
        {
            Notify("STOPPING=1");
            metrics.SetReady(false);
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
        var pass = new SyncPass(options, logger, Report);
        var retry = new Backoff(TimeSpan.FromSeconds(options.BackoffCapSeconds));
        TimeSpan? retryIn = null;
        var readySent = false;
        var waitingLogged = "";
        while (!stop.IsCancellationRequested)
        {
            if (!await WaitForChangeAsync(watcher, retryIn, stop).ConfigureAwait(false))
            {
                return;
            }
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
            Finished(result, started.Elapsed);
            var status = $"STATUS={Describe(result.Outcome)}: {result.Summary}";
            readySent = Notify(readySent ? status : "READY=1\n" + status) || readySent;
            if (result.Outcome == SyncOutcome.Failed)
            {
                retryIn = retry.Next();
            }
            else
            {
                retry.Reset();
                retryIn = null;
            }
        }
    }

    // True when there is something to do: a change, or the retry time came. False on stop.
    private static async Task<bool> WaitForChangeAsync(ClusterWatcher watcher, TimeSpan? retryIn, CancellationToken stop)
    {
        // Once a burst of changes is over, give the memory of its renders back to the node: the
        // daemon spends nearly all its life idle, and the GC would otherwise keep its peak.
        if (!watcher.Changes.TryPeek(out _) && !await ChangeWithinAsync(watcher, TrimAfter, stop).ConfigureAwait(false) && !stop.IsCancellationRequested)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
        var changed = await ChangeWithinAsync(watcher, retryIn, stop).ConfigureAwait(false);
        if (stop.IsCancellationRequested)
        {
            return false;
        }
        if (changed)
        {
            watcher.Changes.TryRead(out _);
        }
        return true;
    }

    // True once a change is waiting; false when the limit (if any) passed first or stop was asked.
    private static async Task<bool> ChangeWithinAsync(ClusterWatcher watcher, TimeSpan? limit, CancellationToken stop)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop);
        if (limit is { } time)
        {
            wait.CancelAfter(time);
        }
        try
        {
            return await watcher.Changes.WaitToReadAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
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
        var text = problem.ToString();
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

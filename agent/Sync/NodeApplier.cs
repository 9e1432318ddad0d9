using System.Globalization;
using Microsoft.Extensions.Logging;
using NodeAgent.Impact;
using NodeAgent.Logging;
using NodeAgent.Node;

namespace NodeAgent.Sync;

/// <summary>
/// Puts rendered files on the node (node-apply.md): write what changed in order, reload the
/// runtime when its files changed, check it is healthy, and roll back to last-known-good if not.
/// The same path serves <c>--once</c> and the daemon. Without CRI-O (<paramref name="reloadsCrio"/>
/// false, <c>--runtime containerd</c>) nothing is reloaded: containerd reads hosts.toml on every pull.
/// </summary>
public sealed class NodeApplier(HostPaths paths, ILogger logger, bool reloadsCrio = true, TimeProvider? clock = null)
{
    /// <summary>How long after a reload CRI-O's journal is read for its verdict.</summary>
    private static readonly TimeSpan ReloadConfirmationWait = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan JournalPollInterval = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan JournalCommandTimeout = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time = clock ?? TimeProvider.System;

    private const string ContainerdReadsEveryPull = "containerd reads hosts.toml on every pull";

    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(60);

    /// <summary>The files CRI-O reads (the dry run's impact compares them as models).</summary>
    private static readonly HashSet<string> RuntimeFiles = new(StringComparer.Ordinal)
    {
        HostPaths.RegistriesConf,
        HostPaths.PolicyJson,
        HostPaths.SearchDropIn,
    };

    /// <summary>
    /// The files whose change needs a reload: CRI-O re-reads registries.conf and its drop-ins on
    /// SIGHUP, while policy.json and certs.d are read on every pull (node-apply.md §3).
    /// </summary>
    private static readonly HashSet<string> ReloadFiles = new(StringComparer.Ordinal)
    {
        HostPaths.RegistriesConf,
        HostPaths.SearchDropIn,
    };

    private readonly StateStore _store = new(paths);

    /// <summary>
    /// Prints a unified diff of every file that would change and what that means for pulls,
    /// CRI-O and MCO (<see cref="ImpactForecast"/>); writes nothing at all. Drifted files are
    /// reported as such (they would be restored).
    /// </summary>
    public SyncOutcome DryRun(Func<NodeState, IReadOnlyList<DesiredFile>> plan, DryRunOutput output, string? reloadCommand = null)
    {
        var state = _store.Load();
        var planned = new FileApplier(_store).Plan(plan(state), state);
        ReportDrift(planned, guard: null, dryRun: true);
        var changes = Effective(planned);
        var report = ImpactForecast.Compute(ImpactInputsOf(changes) with { ReloadDisabled = reloadCommand is { Length: 0 } });
        if (output.Json)
        {
            output.Diff.Write(ImpactJson.Format(report, file => UnifiedDiff.Format(file.Path, file.Before, file.After)));
        }
        else
        {
            foreach (var change in changes)
            {
                output.Diff.Write(UnifiedDiff.Format(change.Path, change.Before, change.After));
            }
            output.Impact.Write(ImpactText.Format(report));
        }
        Log.DryRun(logger, changes.Count);
        return SyncOutcome.DryRun;
    }

    private static bool IsHostsFile(string path) => path.StartsWith(HostPaths.ContainerdCertsDirectory + "/", StringComparison.Ordinal);

    // The runtime files as they are and as they would be; every other change is a CA file or a hosts.toml.
    private ImpactInputs ImpactInputsOf(IReadOnlyList<FileChange> changes)
    {
        FileVersions Versions(string path)
        {
            var current = SafePath.Read(paths, path);
            var change = changes.FirstOrDefault(c => c.Path == path);
            return new FileVersions(path, current, change is null ? current : change.After);
        }
        var others = changes.Where(c => !RuntimeFiles.Contains(c.Path)).Select(c => new FileVersions(c.Path, c.Before, c.After)).ToList();
        return new ImpactInputs(Versions(HostPaths.RegistriesConf), Versions(HostPaths.PolicyJson), Versions(HostPaths.SearchDropIn),
            [.. others.Where(f => !IsHostsFile(f.Path))])
        {
            ContainerdFiles = [.. others.Where(f => IsHostsFile(f.Path))],
            ReloadsCrio = reloadsCrio,
        };
    }

    /// <summary>
    /// Applies what <paramref name="plan"/> asks for. The plan sees node-agent's ownership state as
    /// loaded under the lock, so what it releases is decided on current records. A drifted file is
    /// reported and restored; with a <paramref name="drift"/> guard (the daemon) only as often as
    /// its back-off allows, and each foreign content is reported once.
    /// </summary>
    public async Task<SyncResult> ApplyAsync(Func<NodeState, IReadOnlyList<DesiredFile>> plan, string? reloadCommand, string? healthCommand, DriftGuard? drift, CancellationToken cancellationToken)
    {
        using var stateLock = StateLock.Acquire(paths, LockWait);
        var applier = new FileApplier(_store);
        var state = _store.Load();
        var desired = plan(state);
        RemoveStaleTemps(desired);
        var recovered = applier.Recover(state);
        var planned = applier.Plan(desired, state);
        if (FileApplier.Settle(desired, planned, state) || recovered)
        {
            _store.Save(state);
        }
        var report = ReportDrift(planned, drift, dryRun: false);
        var changes = planned.Where(c => !report.Held.Contains(c.Path)).ToList();
        try
        {
            var result = await ApplyChangesAsync(applier, changes, state, reloadCommand, healthCommand, cancellationToken).ConfigureAwait(false);
            foreach (var change in changes.Where(c => c.Drifted && !c.Release))
            {
                if (drift?.Restored(change.Path) is { } longer)
                {
                    Log.DriftBackingOff(logger, change.Path, longer.TotalSeconds, drift.Cap.TotalSeconds, drift.Base.TotalSeconds);
                }
            }
            var summary = result.Outcome == SyncOutcome.Unchanged && report.Held.Count > 0 ? "nothing else to write" : result.Summary;
            return result with { Drifted = report.Reported, DriftHeld = report.Held, Summary = summary + report.Summary(changes) };
        }
        finally
        {
            drift?.PassFinished(planned.Where(c => c.Drifted).Select(c => c.Path).ToList());
        }
    }

    private async Task<SyncResult> ApplyChangesAsync(FileApplier applier, List<FileChange> changes, NodeState state, string? reloadCommand, string? healthCommand, CancellationToken cancellationToken)
    {
        var effective = Effective(changes);
        if (changes.Count == 0)
        {
            Log.NothingToWrite(logger);
            return new SyncResult(SyncOutcome.Unchanged) { Summary = "all files up to date" };
        }
        foreach (var path in applier.Apply(changes, state))
        {
            Log.TookOver(logger, path, StateStore.OriginalCopy(path));
        }
        foreach (var change in effective)
        {
            var action = Describe(change);
            // A removed file is logged with the size it had.
            Log.FileChanged(logger, action, change.Path, change.After?.Length ?? change.Before?.Length ?? 0);
        }
        if (effective.Count == 0)
        {
            applier.MarkGood(changes, state);
            Log.NothingToWrite(logger);
            return new SyncResult(SyncOutcome.Unchanged) { Summary = "all files up to date" };
        }
        var written = $"{effective.Count} file(s) changed";
        var counts = new ReloadCounts();

        if (!reloadsCrio)
        {
            Log.ReloadSkipped(logger, ContainerdReadsEveryPull);
        }
        else if (effective.Any(c => ReloadFiles.Contains(c.Path)))
        {
            var reload = await ReloadPlan.ResolveAsync(reloadCommand, healthCommand, paths, cancellationToken).ConfigureAwait(false);
            if (reload.ReloadCommand is null)
            {
                Log.ReloadSkipped(logger, reload.Reason);
            }
            else if (await ReloadAndCheckAsync(reload, counts, cancellationToken).ConfigureAwait(false) is { } failure)
            {
                var restored = applier.RollBack(changes, state);
                Log.RolledBack(logger, restored.Count == 0 ? "(nothing to restore)" : string.Join(", ", restored));
                var summary = $"{failure}; rolled back to the last good files";
                if (await ReloadAndCheckAsync(reload, counts, cancellationToken).ConfigureAwait(false) is not null)
                {
                    Log.StillUnhealthy(logger);
                    summary += ", and the runtime is still unhealthy";
                }
                return new SyncResult(SyncOutcome.RolledBack)
                {
                    FilesChanged = effective.Count + restored.Count,
                    Reloads = counts.Runs,
                    FailedReloads = counts.Failures,
                    Summary = summary,
                };
            }
            else
            {
                written += ", runtime reloaded";
            }
        }
        applier.MarkGood(changes, state);
        return new SyncResult(SyncOutcome.Applied) { FilesChanged = effective.Count, Reloads = counts.Runs, Summary = written };
    }

    /// <summary>The drift a pass found: the files reported (news) and those whose restore is held back.</summary>
    private sealed record DriftReport(IReadOnlyList<string> Reported, IReadOnlyList<string> Held)
    {
        public string Summary(IReadOnlyList<FileChange> applied)
        {
            var restored = applied.Count(c => c.Drifted && !c.Release);
            var text = restored == 0 ? "" : $"; {restored} drifted file(s) restored";
            return Held.Count == 0 ? text : text + $"; {Held.Count} drifted file(s) held back by the drift back-off: {string.Join(", ", Held)}";
        }
    }

    // One warning per drifted file whose foreign content is news, and the restores the back-off
    // holds back. Only a pure restore waits: content the cluster changed is written at once.
    private DriftReport ReportDrift(IReadOnlyList<FileChange> changes, DriftGuard? guard, bool dryRun)
    {
        var reported = new List<string>();
        var held = new List<string>();
        foreach (var change in changes.Where(c => c.Drifted))
        {
            var wait = !dryRun && change.RestoresOnly ? guard?.Hold(change.Path) : null;
            if (wait is not null)
            {
                held.Add(change.Path);
            }
            if (guard is not null && !guard.IsNews(change.Path, FileApplier.Sha256(change.Before)))
            {
                continue;
            }
            reported.Add(change.Path);
            var what = change.Before is null ? "deleted" : "changed";
            var action = (change.Release, dryRun, wait) switch
            {
                (true, _, _) => "node-agent no longer manages it and leaves it as it is",
                (_, true, _) => "dry run: it would be restored; nothing is written",
                (_, _, { } left) => string.Create(CultureInfo.InvariantCulture, $"restoring it in {Math.Ceiling(left.TotalSeconds):0} s: the drift back-off holds it back while another writer keeps changing it"),
                _ => "restoring node-agent's content now",
            };
            var diff = change.Before is null ? "none, the file is gone" : UnifiedDiff.OneLine(change.Path, change.Ours ?? change.After, change.Before);
            Log.Drifted(logger, change.Path, what, action, diff);
        }
        return new DriftReport(reported, held);
    }

    // Null when the reload and the health check passed; otherwise which one failed.
    private async Task<string?> ReloadAndCheckAsync(ReloadPlan plan, ReloadCounts counts, CancellationToken cancellationToken)
    {
        counts.Runs++;
        var cursor = plan.JournalUnit is { } unit ? await JournalCursorAsync(unit, cancellationToken).ConfigureAwait(false) : null;
        if (!await RunAsync("reload", plan.ReloadCommand!, cancellationToken).ConfigureAwait(false))
        {
            counts.Failures++;
            return $"reload failed ({plan.ReloadCommand})";
        }
        if (cursor is not null)
        {
            var (verdict, line) = await ReloadVerdictAsync(plan.JournalUnit!, cursor, cancellationToken).ConfigureAwait(false);
            switch (verdict)
            {
                case ReloadVerdict.Rejected:
                    counts.Failures++;
                    Log.ReloadRejected(logger, plan.JournalUnit!, line!);
                    return $"{plan.JournalUnit} refused the reload: {line}";
                case ReloadVerdict.Confirmed:
                    Log.ReloadConfirmed(logger, plan.JournalUnit!, line!);
                    break;
                default:
                    Log.ReloadUnconfirmed(logger, plan.JournalUnit!, ReloadConfirmationWait.TotalSeconds);
                    break;
            }
        }
        if (plan.HealthCommand is not null && !await RunAsync("health check", plan.HealthCommand, cancellationToken).ConfigureAwait(false))
        {
            counts.Failures++;
            return $"health check failed after the reload ({plan.HealthCommand})";
        }
        return null;
    }

    // The journal's position before the reload, so only what CRI-O logs after it counts; null
    // (and no confirmation) where there is no journal to read, as in a container without journalctl.
    private async Task<string?> JournalCursorAsync(string unit, CancellationToken cancellationToken)
    {
        var result = await CommandRunner.RunAsync(CrioJournal.CursorCommand(unit), JournalCommandTimeout, cancellationToken).ConfigureAwait(false);
        var cursor = result.Succeeded ? CrioJournal.ParseCursor(result.Output) : null;
        if (cursor is null)
        {
            Log.ReloadJournalUnavailable(logger, result.Succeeded ? "journalctl printed no cursor" : $"journalctl failed (exit {result.ExitCode}): {result.Output.Trim()}");
        }
        return cursor;
    }

    // CRI-O handles SIGHUP after `systemctl reload` returns: read its new entries until one
    // decides, for at most ReloadConfirmationWait.
    private async Task<(ReloadVerdict Verdict, string? Line)> ReloadVerdictAsync(string unit, string cursor, CancellationToken cancellationToken)
    {
        var deadline = _time.GetTimestamp() + (long)(ReloadConfirmationWait.TotalSeconds * _time.TimestampFrequency);
        while (true)
        {
            var read = await CommandRunner.RunAsync(CrioJournal.AfterCommand(unit, cursor), JournalCommandTimeout, cancellationToken).ConfigureAwait(false);
            var verdict = read.Succeeded ? CrioJournal.Classify(read.Output.Split('\n')) : (ReloadVerdict.Silent, null);
            if (verdict.Verdict != ReloadVerdict.Silent || _time.GetTimestamp() >= deadline)
            {
                return verdict;
            }
            await Task.Delay(JournalPollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class ReloadCounts
    {
        public int Runs { get; set; }

        public int Failures { get; set; }
    }

    private async Task<bool> RunAsync(string what, string command, CancellationToken cancellationToken)
    {
        var result = await CommandRunner.RunAsync(command, CommandRunner.DefaultTimeout, cancellationToken).ConfigureAwait(false);
        if (result.Succeeded)
        {
            Log.CommandSucceeded(logger, what, result.Duration.TotalMilliseconds, command);
        }
        else
        {
            Log.CommandFailed(logger, what, result.ExitCode, command, result.Output);
        }
        return result.Succeeded;
    }

    // A release that leaves the bytes as they are changes only node-agent's own records.
    private static List<FileChange> Effective(IReadOnlyList<FileChange> changes) =>
        changes.Where(c => !(c.Before is null ? c.After is null : c.After is not null && c.Before.AsSpan().SequenceEqual(c.After))).ToList();

    private static string Describe(FileChange change) => change switch
    {
        { Release: true, After: null } => "removed",
        { Release: true } => "restored the original",
        { Drifted: true } => "restored",
        { Creates: true } => "created",
        _ => "updated",
    };

    private void RemoveStaleTemps(IReadOnlyList<DesiredFile> desired)
    {
        var directories = desired.Select(d => (Path.GetDirectoryName(paths.Resolve(d.Path))!, false))
            .Append((paths.Resolve(HostPaths.StateDirectory), true))
            .Distinct();
        foreach (var (directory, recursive) in directories)
        {
            var removed = AtomicFile.RemoveStaleTemps(directory, recursive);
            if (removed > 0)
            {
                Log.StaleTempsRemoved(logger, removed, directory);
            }
        }
    }
}

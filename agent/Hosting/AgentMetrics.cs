using System.Diagnostics.Metrics;
using NodeAgent.Node;
using NodeAgent.Sync;

namespace NodeAgent.Hosting;

/// <summary>
/// The daemon's metrics, on the <see cref="Meter"/> named <c>NodeAgent</c>. Every instrument is
/// observable and reads totals kept here, so a listener that attaches late (or scrapes before
/// the first pass) sees the whole history, with zero-valued series for every sync result.
/// Labels take values from small fixed sets only: one series per node stays cheap at fleet scale.
/// </summary>
public sealed class AgentMetrics : IDisposable
{
    public const string MeterName = "NodeAgent";

    /// <summary>The <c>result</c> label of <c>node_agent_sync_total</c>, in <see cref="SyncOutcome"/> order.</summary>
    private static readonly (SyncOutcome Outcome, string Label)[] SyncResults =
    [
        (SyncOutcome.Applied, "applied"),
        (SyncOutcome.Unchanged, "unchanged"),
        (SyncOutcome.InvalidInput, "invalid_input"),
        (SyncOutcome.Failed, "failed"),
        (SyncOutcome.RolledBack, "rolled_back"),
    ];

    /// <summary>The <c>file</c> label of <c>node_agent_drift_total</c>: a kind of managed file, never one per registry.</summary>
    public static readonly IReadOnlyList<string> DriftFiles = ["ca", "policy.json", "registries.conf", "search-drop-in"];

    /// <summary>Why a watch was started again; <see cref="WatchRestarted"/> accepts these only.</summary>
    public static readonly IReadOnlyList<string> WatchRestartReasons = ["gone", "error", "closed", "not_served"];

    private readonly Lock _gate = new();
    private readonly long[] _syncs = new long[SyncResults.Length];
    private readonly SortedDictionary<string, long> _drifts = new(DriftFiles.ToDictionary(f => f, _ => 0L), StringComparer.Ordinal);
    private readonly SortedDictionary<(string Resource, string Reason), long> _watchRestarts = new();
    private long _renderErrors;
    private long _filesWritten;
    private long _reloadSuccesses;
    private long _reloadFailures;
    private long _rollbacks;
    private double? _lastSuccess;
    private double? _caEarliestExpiry;
    private KeyValuePair<string, double>[] _caExpiryByHost = [];
    private bool _ready;

    public AgentMetrics(string version)
    {
        ArgumentNullException.ThrowIfNull(version);
        Meter = new Meter(MeterName, version);
        Meter.CreateObservableCounter("node_agent_sync_total", ObserveSyncs,
            description: "Reconcile passes, by how they ended.");
        Meter.CreateObservableGauge("node_agent_last_success_timestamp_seconds",
            () => Observe(() => _lastSuccess),
            unit: "s", description: "Unix time of the last pass that applied changes or found nothing to change.");
        Meter.CreateObservableCounter("node_agent_render_errors_total", () => Read(ref _renderErrors),
            description: "Errors found in the input, summed over passes.");
        Meter.CreateObservableCounter("node_agent_files_written_total", () => Read(ref _filesWritten),
            description: "Files whose bytes changed on disk: written, created, removed or restored.");
        Meter.CreateObservableCounter("node_agent_reloads_total", ObserveReloads,
            description: "Runtime reloads, by whether the reload and health check succeeded.");
        Meter.CreateObservableCounter("node_agent_rollbacks_total", () => Read(ref _rollbacks),
            description: "Passes that put the last good files back after a failed reload.");
        Meter.CreateObservableCounter("node_agent_drift_total", ObserveDrifts,
            description: "Managed files found changed by someone else since node-agent wrote them, once per foreign content, by kind of file.");
        Meter.CreateObservableCounter("node_agent_watch_restarts_total", ObserveWatchRestarts,
            description: "Watches started again, by resource and reason.");
        Meter.CreateObservableGauge("node_agent_ca_certificate_earliest_expiry_timestamp_seconds",
            () => Observe(() => _caEarliestExpiry),
            unit: "s", description: "Unix time when the first of the rendered CA certificates expires; absent without CA certificates.");
        Meter.CreateObservableGauge("node_agent_ca_certificate_expiry_timestamp_seconds", ObserveCaExpiry,
            unit: "s", description: "Unix time when the first CA certificate for each registry host expires (one series per CA key in the ConfigMaps).");
        Meter.CreateObservableGauge("node_agent_ready", () => Observe<long>(() => _ready ? 1 : 0),
            description: "1 while the initial lists are complete and the last pass succeeded.");
        Meter.CreateObservableGauge("node_agent_info",
            () => new Measurement<long>(1, new KeyValuePair<string, object?>("version", version)),
            description: "Always 1; the version label says which node-agent runs.");
    }

    public Meter Meter { get; }

    /// <summary>Counts one reconcile pass. A dry run is not a daemon pass and is not counted.</summary>
    public void Record(SyncResult result, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(result);
        lock (_gate)
        {
            var index = Array.FindIndex(SyncResults, r => r.Outcome == result.Outcome);
            if (index >= 0)
            {
                _syncs[index]++;
            }
            if (result.Outcome is SyncOutcome.Applied or SyncOutcome.Unchanged)
            {
                _lastSuccess = UnixSeconds(now);
            }
            _renderErrors += Math.Max(0, result.RenderErrors);
            _filesWritten += Math.Max(0, result.FilesChanged);
            _reloadFailures += Math.Max(0, result.FailedReloads);
            _reloadSuccesses += Math.Max(0, result.Reloads - result.FailedReloads);
            if (result.Outcome == SyncOutcome.RolledBack)
            {
                _rollbacks++;
            }
            foreach (var path in result.Drifted)
            {
                _drifts[DriftFile(path)]++;
            }
            _caEarliestExpiry = result.CaEarliestExpiry is { } expiry ? UnixSeconds(expiry) : null;
            if (result.Outcome is not SyncOutcome.InvalidInput)
            {
                _caExpiryByHost = [.. result.CaExpiryByHost.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => KeyValuePair.Create(e.Key, UnixSeconds(e.Value)))];
            }
        }
    }

    /// <summary>
    /// Counts a watch started again. <paramref name="resource"/> is the plural resource name
    /// (<c>imagedigestmirrorsets</c>); <paramref name="reason"/> one of <see cref="WatchRestartReasons"/>.
    /// </summary>
    public void WatchRestarted(string resource, string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(resource);
        if (!WatchRestartReasons.Contains(reason, StringComparer.Ordinal))
        {
            throw new ArgumentException($"watch restart reason {reason} is not one of {string.Join(", ", WatchRestartReasons)}", nameof(reason));
        }
        lock (_gate)
        {
            _watchRestarts[(resource, reason)] = _watchRestarts.GetValueOrDefault((resource, reason)) + 1;
        }
    }

    public void SetReady(bool ready)
    {
        lock (_gate)
        {
            _ready = ready;
        }
    }

    public void Dispose() => Meter.Dispose();

    private static double UnixSeconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / 1000.0;

    private Measurement<long>[] Read(ref long total)
    {
        lock (_gate)
        {
            return [new Measurement<long>(total)];
        }
    }

    private Measurement<T>[] Observe<T>(Func<T?> value)
        where T : struct
    {
        lock (_gate)
        {
            return value() is { } v ? [new Measurement<T>(v)] : [];
        }
    }

    private Measurement<long>[] ObserveSyncs()
    {
        lock (_gate)
        {
            return SyncResults
                .Select((r, i) => new Measurement<long>(_syncs[i], new KeyValuePair<string, object?>("result", r.Label)))
                .ToArray();
        }
    }

    private Measurement<double>[] ObserveCaExpiry()
    {
        lock (_gate)
        {
            return [.. _caExpiryByHost.Select(e => new Measurement<double>(e.Value, new KeyValuePair<string, object?>("host", e.Key)))];
        }
    }

    /// <summary>The <c>file</c> label for a managed path: its kind (<see cref="DriftFiles"/>).</summary>
    public static string DriftFile(string path) => path switch
    {
        HostPaths.RegistriesConf => "registries.conf",
        HostPaths.PolicyJson => "policy.json",
        HostPaths.SearchDropIn => "search-drop-in",
        _ => "ca", // every other file node-agent writes is a CA bundle in a certs.d directory
    };

    private Measurement<long>[] ObserveDrifts()
    {
        lock (_gate)
        {
            return _drifts
                .Select(d => new Measurement<long>(d.Value, new KeyValuePair<string, object?>("file", d.Key)))
                .ToArray();
        }
    }

    private Measurement<long>[] ObserveReloads()
    {
        lock (_gate)
        {
            return
            [
                new Measurement<long>(_reloadSuccesses, new KeyValuePair<string, object?>("result", "success")),
                new Measurement<long>(_reloadFailures, new KeyValuePair<string, object?>("result", "failure")),
            ];
        }
    }

    private Measurement<long>[] ObserveWatchRestarts()
    {
        lock (_gate)
        {
            return _watchRestarts
                .Select(w => new Measurement<long>(w.Value,
                    new KeyValuePair<string, object?>("resource", w.Key.Resource),
                    new KeyValuePair<string, object?>("reason", w.Key.Reason)))
                .ToArray();
        }
    }
}

using Microsoft.Extensions.Logging;
using NodeAgent.Cluster;
using NodeAgent.Configuration;
using NodeAgent.Logging;
using NodeAgent.Rendering;
using NodeAgent.Resources;

namespace NodeAgent.Sync;

/// <summary>
/// <c>--once</c>: one pass from files (<c>--manifests</c>) or from one list of every kind on the
/// API server, through the daemon's own <see cref="SyncPass"/>. Strict: any invalid input ends
/// the run with nothing below the root created, changed or removed.
/// </summary>
public sealed class OnceRunner(AgentOptions options, KubeClient? cluster, ILogger logger, TextWriter output, TextWriter diagnostics)
{
    public async Task<SyncOutcome> RunAsync(CancellationToken cancellationToken)
    {
        ClusterSnapshot snapshot;
        IReadOnlyList<Problem> inputProblems = [];
        var locations = ManifestLocations.None;
        if (options.Manifests is not null)
        {
            if (LoadManifests() is not { } loaded)
            {
                return SyncOutcome.InvalidInput;
            }
            snapshot = loaded.Snapshot;
            locations = loaded.Locations;
        }
        else
        {
            var listed = await ListClusterAsync(cancellationToken).ConfigureAwait(false);
            if (listed is null)
            {
                return SyncOutcome.ClusterUnreachable;
            }
            snapshot = listed.Snapshot;
            inputProblems = listed.Problems;
        }
        var pass = new SyncPass(options, logger, problem => diagnostics.WriteLine(locations.Format(problem)));
        var dryRun = options.DryRun ? new DryRunOutput(output, diagnostics, Json: options.Output == CommandLine.OutputJson) : null;
        var result = await pass.RunAsync(snapshot, inputProblems, dryRun, cancellationToken).ConfigureAwait(false);
        // Invalid input in --once writes no status.json, but the cluster still hears about it.
        if (options.ReportStatus && cluster is not null && dryRun is null)
        {
            var alerts = new CaExpiryAlerts().Due(result.CaExpiryByHost, DateTimeOffset.UtcNow);
            await new NodeReporter(cluster, options.NodeName!, logger).ReportPassAsync(result, snapshot, alerts, cancellationToken).ConfigureAwait(false);
        }
        return result.Outcome;
    }

    private ManifestLoadResult? LoadManifests()
    {
        var scope = new WatchScope(options.CaNamespace, options.ManagedCaConfigMap);
        var loaded = ManifestLoader.Load(options.Manifests!, new ManifestLimits(options.MaxManifestBytes, options.MaxYamlDepth), scope);
        foreach (var ignored in loaded.Ignored)
        {
            Log.ManifestIgnored(logger, ignored);
        }
        if (loaded.Errors.Count > 0)
        {
            foreach (var error in loaded.Errors)
            {
                diagnostics.WriteLine($"error: {error}");
            }
            return null;
        }
        // An empty or wrong directory renders the base files, which removes every mirror, CA and
        // the search drop-in from the node: only on request.
        if (!options.AllowEmpty && !loaded.HasImageConfiguration(scope))
        {
            var ignored = loaded.Ignored.Count == 0 ? "" : $" ({loaded.Ignored.Count} other object{(loaded.Ignored.Count == 1 ? " was" : "s were")} ignored)";
            diagnostics.WriteLine($"error: no image configuration objects in {options.Manifests}{ignored}: none of Image/cluster, ClusterVersion/version, " +
                "ImageContentSourcePolicy, ImageDigestMirrorSet, ImageTagMirrorSet; --allow-empty renders the base files");
            return null;
        }
        LogLoaded(loaded.Snapshot, options.Manifests!);
        return loaded;
    }

    // Null when the cluster could not be read; the reason is on stderr.
    private async Task<WatchSnapshot?> ListClusterAsync(CancellationToken cancellationToken)
    {
        var client = cluster ?? throw new InvalidOperationException("--once without --manifests needs the cluster connection");
        var watcher = new ClusterWatcher(client, new WatchScope(options.CaNamespace, options.ManagedCaConfigMap), new WatchTiming(), logger);
        try
        {
            var listed = await watcher.ListOnceAsync(cancellationToken).ConfigureAwait(false);
            LogLoaded(listed.Snapshot, client.Server.ToString());
            return listed;
        }
        catch (Exception e) when (Reflector.IsTransient(e) && !cancellationToken.IsCancellationRequested)
        {
            diagnostics.WriteLine($"error: cluster unreachable: {client.Server}: {Reflector.Describe(e)}");
            return null;
        }
    }

    private void LogLoaded(ClusterSnapshot snapshot, string from)
    {
        var objects = SnapshotSummary.Plural(Count(snapshot), "object", "objects");
        var kinds = SnapshotSummary.Kinds(snapshot);
        Log.ManifestsLoaded(logger, objects, from, kinds);
    }

    private static int Count(ClusterSnapshot snapshot) =>
        (snapshot.Image is null ? 0 : 1) + (snapshot.ClusterVersion is null ? 0 : 1) + snapshot.ImageContentSourcePolicies.Count +
        snapshot.ImageDigestMirrorSets.Count + snapshot.ImageTagMirrorSets.Count + snapshot.ConfigMaps.Count;
}

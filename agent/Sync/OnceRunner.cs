using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using NodeAgent.Cluster;
using NodeAgent.Configuration;
using NodeAgent.Logging;
using NodeAgent.Node;
using NodeAgent.Rendering;
using NodeAgent.Resources;

namespace NodeAgent.Sync;

/// <summary>
/// <c>--once --manifests</c>: one pass from files to the node. Strict: any invalid input ends the
/// run with nothing below the root created, changed or removed.
/// </summary>
public sealed class OnceRunner(AgentOptions options, ILogger logger, TextWriter output, TextWriter diagnostics)
{
    public async Task<SyncOutcome> RunAsync(CancellationToken cancellationToken)
    {
        var loaded = ManifestLoader.Load(options.Manifests!, new ManifestLimits(options.MaxManifestBytes, options.MaxYamlDepth));
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
            return SyncOutcome.InvalidInput;
        }
        var snapshot = loaded.Snapshot;
        var objects = Count(snapshot);
        Log.ManifestsLoaded(logger, objects, options.Manifests!, snapshot.ImageDigestMirrorSets.Count,
            snapshot.ImageTagMirrorSets.Count, snapshot.ImageContentSourcePolicies.Count,
            snapshot.Image is null ? "absent" : "present", snapshot.ClusterVersion is null ? "absent" : "present");

        if (!TryLoadBasePolicy(out var basePolicy))
        {
            return SyncOutcome.InvalidInput;
        }
        var started = Stopwatch.StartNew();
        var result = Renderer.Render(new ClusterInputs
        {
            Snapshot = snapshot,
            ReleaseImageOverride = options.ReleaseImage,
            BaseSearchRegistries = options.BaseSearchRegistries,
            BasePolicy = basePolicy,
        });
        foreach (var problem in result.Problems)
        {
            diagnostics.WriteLine(problem.ToString());
        }
        if (result.HasErrors)
        {
            Log.RenderFailed(logger, result.Problems.Count(p => p.IsError));
            return SyncOutcome.InvalidInput;
        }
        var entries = CountEntries(result.RegistriesConf);
        Log.Rendered(logger, entries, started.Elapsed.TotalMilliseconds, result.SearchDropIn is null ? "absent" : "present");

        var ca = CaRenderer.Render(new CaInputs
        {
            Snapshot = snapshot,
            CaNamespace = options.CaNamespace,
            ManagedCaConfigMap = options.ManagedCaConfigMap,
            Now = DateTimeOffset.UtcNow,
        });
        foreach (var problem in ca.Problems)
        {
            diagnostics.WriteLine(problem.ToString());
        }
        var paths = new HostPaths(options.Root);
        IReadOnlyList<DesiredFile> Plan(NodeState state)
        {
            var problems = new List<Problem>();
            var caFiles = CaFiles.Desired(ca, options.CertsTargets, paths, state, problems);
            foreach (var problem in problems)
            {
                diagnostics.WriteLine(problem.ToString());
            }
            return [.. caFiles, .. DesiredFiles.From(result)];
        }
        var applier = new NodeApplier(paths, logger);
        try
        {
            return options.DryRun
                ? applier.DryRun(Plan, output)
                : await applier.ApplyAsync(Plan, options.ReloadCommand, options.HealthCommand, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.WriteLine($"error: {e.Message}");
            return SyncOutcome.Failed;
        }
    }

    private bool TryLoadBasePolicy(out JsonObject? basePolicy)
    {
        basePolicy = null;
        if (options.BasePolicyFile is null)
        {
            return true;
        }
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(options.BasePolicyFile), documentOptions: new JsonDocumentOptions { MaxDepth = options.MaxYamlDepth });
            if (node is JsonObject obj && obj["default"] is JsonArray)
            {
                basePolicy = obj;
                return true;
            }
            diagnostics.WriteLine($"error: BasePolicyFile {options.BasePolicyFile}: a policy must be a JSON object with a \"default\" list");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            diagnostics.WriteLine($"error: BasePolicyFile {options.BasePolicyFile}: {e.Message}");
        }
        return false;
    }

    private static int Count(ClusterSnapshot snapshot) =>
        (snapshot.Image is null ? 0 : 1) + (snapshot.ClusterVersion is null ? 0 : 1) + snapshot.ImageContentSourcePolicies.Count +
        snapshot.ImageDigestMirrorSets.Count + snapshot.ImageTagMirrorSets.Count + snapshot.ConfigMaps.Count;

    // Line by line over the bytes: decoding and splitting the whole file into strings cost more
    // than the count is worth for a large registries.conf.
    private static int CountEntries(ReadOnlySpan<byte> registriesConf)
    {
        var count = 0;
        foreach (var line in registriesConf.Split((byte)'\n'))
        {
            if (registriesConf[line].SequenceEqual("[[registry]]"u8))
            {
                count++;
            }
        }
        return count;
    }
}

using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using NodeAgent.Configuration;
using NodeAgent.Consumer;
using NodeAgent.Logging;
using NodeAgent.Node;
using NodeAgent.Rendering;
using NodeAgent.Resources;

namespace NodeAgent.Sync;

/// <summary>
/// One reconcile pass, the same for <c>--once</c> and the daemon: a complete snapshot is rendered
/// (registries, policy, drop-in, CA files), and the result is put on the node with reload, health
/// check and rollback. Invalid input writes nothing. Every problem found goes to
/// <c>report</c>, which prints it (<c>--once</c>) or logs it (daemon). With a <c>drift</c> guard
/// (the daemon), drifted files are restored only as often as its back-off allows.
/// </summary>
public sealed class SyncPass(AgentOptions options, ILogger logger, Action<Problem> report, DriftGuard? drift = null)
{
    private readonly HostPaths _paths = new(options.Root);

    /// <summary>
    /// Whether invalid input is recorded in status.json too (the daemon). <c>--once</c> leaves
    /// it: on invalid input nothing below the root may change.
    /// </summary>
    public bool RecordInvalidInput { get; init; }

    /// <summary>
    /// Renders <paramref name="snapshot"/> and applies it, or with <paramref name="dryRunOutput"/>
    /// only prints the diff and its impact there. <paramref name="inputProblems"/> are what reading the cluster
    /// found (objects that did not decode, types not served); any error among them is invalid input.
    /// </summary>
    public async Task<SyncResult> RunAsync(ClusterSnapshot snapshot, IReadOnlyList<Problem> inputProblems, DryRunOutput? dryRunOutput, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(inputProblems);
        var warnings = new List<string>();
        var result = await PassAsync(snapshot, inputProblems, dryRunOutput, problem =>
        {
            if (!problem.IsError)
            {
                warnings.Add(problem.ToString());
            }
            report(problem);
        }, cancellationToken).ConfigureAwait(false);
        if (dryRunOutput is not null || (result.Outcome == SyncOutcome.InvalidInput && !RecordInvalidInput))
        {
            return result;
        }
        return result with { Status = Record(snapshot, result, warnings) };
    }

    // status.json changes only when the status does: a pass that finds everything as it was
    // leaves the file (and its time) alone, as it leaves every other file.
    private NodeStatus Record(ClusterSnapshot snapshot, SyncResult result, List<string> warnings)
    {
        var file = new NodeStatusFile(_paths);
        NodeStatus? previous;
        try
        {
            previous = file.Read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable is as good as absent here: the write below says what is wrong, if anything.
            previous = null;
        }
        var now = NodeStatus.Timestamp(DateTimeOffset.UtcNow);
        var status = new NodeStatus
        {
            Time = now,
            Result = result.Outcome.ToString(),
            Summary = result.Summary,
            RenderedHash = result.RenderedHash,
            Generations = NodeStatus.GenerationsOf(snapshot),
            LastReload = result.Reloads > 0 ? new ReloadRecord(now, result.FailedReloads == 0, result.Reloads) : previous?.LastReload,
            CaExpiry = new SortedDictionary<string, string>(result.CaExpiryByHost.ToDictionary(e => e.Key, e => NodeStatus.Timestamp(e.Value)), StringComparer.Ordinal),
            Warnings = warnings,
        };
        if (result.Outcome == SyncOutcome.Unchanged && previous is { Result: nameof(SyncOutcome.Applied) or nameof(SyncOutcome.Unchanged) })
        {
            status = status with { Result = previous.Result, Summary = previous.Summary };
        }
        if (previous is not null && previous.SameAs(status))
        {
            return previous;
        }
        try
        {
            file.Write(status);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A pass that failed on the node has said why already; the status cannot be written
            // for the same reason, and a second line would only repeat it.
            if (result.Outcome != SyncOutcome.Failed)
            {
                report(Problem.Warning(new FieldRef("node", NodeStatusFile.RelativePath), $"the status was not recorded: {e.Message}"));
            }
        }
        return status;
    }

    private async Task<SyncResult> PassAsync(ClusterSnapshot snapshot, IReadOnlyList<Problem> inputProblems, DryRunOutput? dryRunOutput, Action<Problem> report, CancellationToken cancellationToken)
    {
        foreach (var problem in inputProblems)
        {
            report(problem);
        }
        var inputErrors = inputProblems.Count(p => p.IsError);
        if (inputErrors > 0)
        {
            return Invalid(inputErrors, inputProblems.First(p => p.IsError));
        }
        if (!TryLoadBasePolicy(out var basePolicy, out var policyProblem))
        {
            report(policyProblem!);
            return Invalid(1, policyProblem!);
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
            report(problem);
        }
        if (result.HasErrors)
        {
            var errors = result.Problems.Count(p => p.IsError);
            Log.RenderFailed(logger, errors);
            return Invalid(errors, result.Problems.First(p => p.IsError));
        }
        if (options.WritesCrioFiles && ConsumerRejection(result) is { } rejected)
        {
            report(rejected);
            Log.RenderFailed(logger, 1);
            return Invalid(1, rejected);
        }
        var entries = CountEntries(result.RegistriesConf);
        var rendered = SnapshotSummary.Plural(entries, "registry entry", "registry entries");
        var runtimeFiles = SnapshotSummary.RuntimeFiles(options, result.SearchDropIn is not null);
        Log.Rendered(logger, rendered, started.Elapsed.TotalMilliseconds, runtimeFiles);

        var ca = CaRenderer.Render(new CaInputs
        {
            Snapshot = snapshot,
            CaNamespace = options.CaNamespace,
            ManagedCaConfigMap = options.ManagedCaConfigMap,
            Now = DateTimeOffset.UtcNow,
        });
        foreach (var problem in ca.Problems)
        {
            report(problem);
        }
        IReadOnlyList<DesiredFile> Plan(NodeState state)
        {
            var problems = new List<Problem>();
            var caFiles = CaFiles.Desired(ca, options.CertsTargets, _paths, state, problems);
            var containerd = options.WritesContainerdFiles
                ? ContainerdHostsRenderer.Render(new ContainerdInputs
                {
                    Rules = result.Rules,
                    CaFiles = ContainerdFiles.CaPaths(caFiles, ca, options.CertsTargets, _paths),
                })
                : new ContainerdRenderResult([], []);
            problems.AddRange(containerd.Problems);
            var hostsFiles = ContainerdFiles.Desired(containerd, _paths, state, problems);
            foreach (var problem in problems)
            {
                report(problem);
            }
            return DesiredFiles.InOrder(caFiles, hostsFiles, DesiredFiles.From(result, options.WritesCrioFiles));
        }
        var expiry = ca.Bundles.SelectMany(b => b.Certificates).Select(c => (DateTimeOffset?)c.NotAfter).Min();
        var expiryByHost = ca.Bundles.Where(b => b.Certificates.Count > 0)
            .GroupBy(b => b.Directory, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.SelectMany(b => b.Certificates).Min(c => c.NotAfter), StringComparer.Ordinal);
        var renderedHash = RenderedHash(result, ca);
        var applier = new NodeApplier(_paths, logger, options.WritesCrioFiles);
        try
        {
            var outcome = dryRunOutput is not null
                ? new SyncResult(applier.DryRun(Plan, dryRunOutput, options.ReloadCommand))
                : await applier.ApplyAsync(Plan, options.ReloadCommand, options.HealthCommand, drift, cancellationToken).ConfigureAwait(false);
            return outcome with { CaEarliestExpiry = expiry, CaExpiryByHost = expiryByHost, RenderedHash = renderedHash };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var message = e is HostAccessException denied ? $"{denied.Message}; {denied.WriteAdvice}" : e.Message;
            report(Problem.Error(new FieldRef("node", ""), message));
            return new SyncResult(SyncOutcome.Failed) { CaEarliestExpiry = expiry, CaExpiryByHost = expiryByHost, RenderedHash = renderedHash, Summary = message };
        }
    }

    // The same objects give the same hash on every node: the runtime files' bytes and each CA
    // bundle by registry, not the paths of one node's certs.d targets.
    private static string RenderedHash(RenderResult result, CaRenderResult ca)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in new[] { result.RegistriesConf, result.PolicyJson, result.SearchDropIn ?? [] })
        {
            hash.AppendData(BitConverter.GetBytes(part.Length));
            hash.AppendData(part);
        }
        foreach (var bundle in ca.Bundles.OrderBy(b => b.Directory, StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(bundle.Directory + "\n"));
            hash.AppendData(bundle.Pem);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    // CRI-O rejects a registries.conf it cannot load silently, on reload, and then fails at its
    // next start (node-apply.md §3): load what was rendered as containers/image would, first.
    private static Problem? ConsumerRejection(RenderResult result)
    {
        foreach (var (path, bytes) in new[] { (HostPaths.RegistriesConf, result.RegistriesConf), (HostPaths.SearchDropIn, result.SearchDropIn) })
        {
            if (bytes is null)
            {
                continue;
            }
            try
            {
                RegistriesConfReader.Parse(System.Text.Encoding.UTF8.GetString(bytes), "/" + path);
            }
            catch (RegistriesConfException e)
            {
                return Problem.Error(new FieldRef($"/{path}", ""),
                    $"as rendered, containers/image would refuse to load it ({e.Detail}), so CRI-O would keep its old configuration on reload and fail at its next start; nothing was written. Correct the objects that give these scopes");
            }
        }
        return null;
    }

    private static SyncResult Invalid(int errors, Problem first) => new(SyncOutcome.InvalidInput)
    {
        RenderErrors = errors,
        Summary = errors == 1 ? $"invalid input, files kept: {first.Where}: {first.Message}" : $"invalid input ({errors} errors), files kept; first: {first.Where}: {first.Message}",
    };

    private bool TryLoadBasePolicy(out JsonObject? basePolicy, out Problem? problem)
    {
        basePolicy = null;
        problem = null;
        if (options.BasePolicyFile is null)
        {
            return true;
        }
        var where = new FieldRef($"BasePolicyFile {options.BasePolicyFile}", "");
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(options.BasePolicyFile), documentOptions: new JsonDocumentOptions { MaxDepth = options.MaxYamlDepth });
            if (node is JsonObject obj && obj["default"] is JsonArray)
            {
                basePolicy = obj;
                return true;
            }
            problem = Problem.Error(where, "a policy must be a JSON object with a \"default\" list");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            problem = Problem.Error(where, e.Message);
        }
        return false;
    }

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

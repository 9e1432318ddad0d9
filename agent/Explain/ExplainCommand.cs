using System.Text.Json;
using NodeAgent.Configuration;
using NodeAgent.Consumer;
using NodeAgent.Hosting;
using NodeAgent.Node;

namespace NodeAgent.Explain;

/// <summary>
/// <c>node-agent explain IMAGE</c>: reads the node's containers/image configuration below the
/// root, explains the pull, optionally probes TLS to every endpoint it would contact, and writes
/// text or JSON to stdout. Diagnostics go to stderr; exit 0 whatever the verdict, 2 for an
/// invalid reference or configuration file, 1 when a file cannot be read.
/// </summary>
public static class ExplainCommand
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    // Quotes and apostrophes stay readable; the output is never embedded in HTML.
    private static readonly ExplanationJsonContext JsonContext = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static async Task<int> RunAsync(string image, string root, bool probe, string output, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var paths = new HostPaths(root);
        var warnings = new List<string>();
        Explanation explanation;
        try
        {
            var inputs = ConsumerFiles.Load(paths, warnings);
            explanation = PullExplainer.Explain(image, inputs);
        }
        catch (InvalidReferenceException e)
        {
            await stderr.WriteLineAsync($"error: invalid image reference {e.Message}").ConfigureAwait(false);
            return ExitCodes.InvalidInput;
        }
        catch (Exception e) when (e is RegistriesConfException or PolicyJsonException or InvalidDataException)
        {
            await stderr.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return ExitCodes.InvalidInput;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"error: reading below {paths.Root}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.RuntimeFailure;
        }
        explanation = explanation with { Warnings = [.. warnings, .. explanation.Warnings] };
        if (probe)
        {
            explanation = await ProbeAsync(paths, explanation, cancel).ConfigureAwait(false);
        }

        await stdout.WriteAsync(output == CommandLine.OutputJson
            ? JsonSerializer.Serialize(explanation, JsonContext.Explanation) + "\n"
            : ExplanationText.Render(explanation)).ConfigureAwait(false);
        foreach (var warning in explanation.Warnings)
        {
            await stderr.WriteLineAsync($"warning: {warning}").ConfigureAwait(false);
        }
        return ExitCodes.Success;
    }

    // Every endpoint that would be contacted, once per host and trust setting, all at once.
    private static async Task<Explanation> ProbeAsync(HostPaths paths, Explanation explanation, CancellationToken cancel)
    {
        var probes = new Dictionary<(string Host, bool Insecure), Task<ProbeResult>>();
        foreach (var source in explanation.Candidates.SelectMany(c => c.Sources).Where(s => s.Contacted))
        {
            if (!probes.ContainsKey((source.Host, source.Insecure)))
            {
                probes[(source.Host, source.Insecure)] = RegistryProbe.ProbeAsync(paths, source.Host, source.Insecure, source.Certs, ProbeTimeout, cancel);
            }
        }
        await Task.WhenAll(probes.Values).ConfigureAwait(false);
        var candidates = new List<CandidateExplanation>();
        foreach (var candidate in explanation.Candidates)
        {
            var sources = new List<SourceExplanation>();
            foreach (var source in candidate.Sources)
            {
                sources.Add(source.Contacted ? source with { Probe = await probes[(source.Host, source.Insecure)].ConfigureAwait(false) } : source);
            }
            candidates.Add(candidate with { Sources = sources });
        }
        return explanation with { Candidates = candidates };
    }
}

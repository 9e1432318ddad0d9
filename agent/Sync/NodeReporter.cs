using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using NodeAgent.Cluster;
using NodeAgent.Logging;
using NodeAgent.Resources;

namespace NodeAgent.Sync;

/// <summary>
/// Publishes what a pass did on this node where a cluster admin looks (<c>--report-status</c>):
/// Events on the Node (applied changes, invalid input, failed reloads and rollbacks, CA expiry),
/// and a compact annotation with the rendered hash, the generations seen, the result and the
/// time. Needs the optional RBAC (create events, patch nodes); without it the pass is unaffected
/// and one warning says what is missing. Never throws.
/// </summary>
public sealed class NodeReporter(KubeClient client, string nodeName, ILogger logger)
{
    public const string AnnotationKey = "node-agent.io/status";
    public const string Component = "node-agent";

    private string? _lastAnnotation;
    private string? _lastWarning;
    private bool _failing;

    /// <summary>Everything a pass has to say: its status (<see cref="NodeStatus.Of"/>), then its CA alerts.</summary>
    public async Task ReportPassAsync(SyncResult result, ClusterSnapshot snapshot, IReadOnlyList<CaExpiryAlert> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        await ReportAsync(result.Outcome, NodeStatus.Of(result, snapshot), cancellationToken).ConfigureAwait(false);
        await ReportAsync(alerts, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes the annotation when it says something new, and an Event for a pass that did something or failed.</summary>
    public async Task ReportAsync(SyncOutcome outcome, NodeStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        var annotation = Annotation(status);
        // The time alone changing is no news: a quiet cluster makes no writes.
        var key = annotation.Remove(annotation.IndexOf(",\"time\":", StringComparison.Ordinal));
        if (key != _lastAnnotation && await PatchAnnotationAsync(annotation, cancellationToken).ConfigureAwait(false))
        {
            _lastAnnotation = key;
        }
        if (EventFor(outcome) is not { } kind)
        {
            _lastWarning = null;
            return;
        }
        var message = status.Summary;
        if (kind.Type == "Warning")
        {
            // A retry of the same failure is not a new event.
            if (_lastWarning == kind.Reason + message)
            {
                return;
            }
            _lastWarning = kind.Reason + message;
        }
        else
        {
            _lastWarning = null;
        }
        await CreateEventAsync(kind.Type, kind.Reason, message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A Warning event per CA alert: 30 days, 7 days, expired.</summary>
    public async Task ReportAsync(IReadOnlyList<CaExpiryAlert> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        foreach (var alert in alerts)
        {
            var notAfter = NodeStatus.Timestamp(alert.NotAfter);
            var (reason, message) = alert.Expired
                ? ("CACertificateExpired", $"the CA certificate for {alert.Host} expired at {notAfter}; pulls from it fail TLS verification")
                : ("CACertificateExpiring", $"the CA certificate for {alert.Host} expires at {notAfter}, in {alert.DaysLeft} days");
            await CreateEventAsync("Warning", reason, message, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The annotation's value: compact JSON, short enough to read in <c>kubectl describe node</c>.</summary>
    public static string Annotation(NodeStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var generations = new JsonObject();
        foreach (var (name, generation) in status.Generations)
        {
            generations[name] = generation;
        }
        var value = new JsonObject
        {
            ["result"] = status.Result,
            ["hash"] = status.RenderedHash.Length > 16 ? status.RenderedHash[..16] : status.RenderedHash,
            ["generations"] = generations,
            ["time"] = status.Time,
        };
        return value.ToJsonString();
    }

    private static (string Type, string Reason)? EventFor(SyncOutcome outcome) => outcome switch
    {
        SyncOutcome.Applied => ("Normal", "RegistryConfigApplied"),
        SyncOutcome.InvalidInput => ("Warning", "RegistryConfigInvalid"),
        SyncOutcome.RolledBack => ("Warning", "RegistryConfigRolledBack"),
        SyncOutcome.Failed => ("Warning", "RegistryConfigFailed"),
        _ => null,
    };

    private async Task<bool> PatchAnnotationAsync(string annotation, CancellationToken cancellationToken)
    {
        var patch = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [AnnotationKey] = annotation } } };
        return await TryAsync("annotation on Node/" + nodeName, () => client.MergePatchAsync(ResourceType.Nodes, nodeName, patch, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private async Task CreateEventAsync(string type, string reason, string message, CancellationToken cancellationToken)
    {
        var now = NodeStatus.Timestamp(DateTimeOffset.UtcNow);
        var item = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = new JsonObject { ["generateName"] = nodeName + ".", ["namespace"] = "default" },
            // kubelet names the Node as its own uid in the events it records; so does this.
            ["involvedObject"] = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Node", ["name"] = nodeName, ["uid"] = nodeName },
            ["type"] = type,
            ["reason"] = reason,
            ["message"] = message.Length > 1024 ? message[..1021] + "..." : message,
            ["source"] = new JsonObject { ["component"] = Component, ["host"] = nodeName },
            ["reportingComponent"] = Component,
            ["reportingInstance"] = nodeName,
            ["firstTimestamp"] = now,
            ["lastTimestamp"] = now,
            ["count"] = 1,
        };
        await TryAsync($"{type} event {reason}", () => client.CreateAsync(ResourceType.Events("default"), item, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> TryAsync(string what, Func<Task> write, CancellationToken cancellationToken)
    {
        try
        {
            await write().ConfigureAwait(false);
            if (_failing)
            {
                _failing = false;
                Log.StatusPublishRecovered(logger);
            }
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: nothing failed, and there is no one left to tell.
            return false;
        }
        catch (Exception e) when (e is KubeApiException or HttpRequestException or OperationCanceledException or IOException)
        {
            if (!_failing)
            {
                _failing = true;
                var reason = Reflector.Describe(e);
                Log.StatusPublishFailed(logger, what, reason);
            }
            return false;
        }
    }
}

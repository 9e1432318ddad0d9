using System.Net.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using NodeAgent.Logging;
using NodeAgent.Rendering;
using NodeAgent.Resources;

namespace NodeAgent.Cluster;

/// <summary>
/// The latest version of one watched object as the reflector holds it: decoded, or the problem
/// that kept it from decoding (reported when a render would use it).
/// </summary>
public sealed record StoredObject(string Name, string ResourceVersion, KubeObject? Decoded, Problem? Error);

/// <summary>How the watch loops pace themselves.</summary>
public sealed record WatchTiming
{
    /// <summary>Cap of the retry backoff after errors (<c>BackoffCapSeconds</c>).</summary>
    public TimeSpan BackoffCap { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Cap of the retries of a resource type the server does not serve: a CRD installed later is
    /// found within this, and a cluster without it costs one request per interval, not a poll.
    /// </summary>
    public TimeSpan NotServedRetryCap { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Each watch asks the server to end it after a random time between this and twice this, as
    /// client-go's reflector does, so idle watches are renewed without thousands of nodes in step.
    /// </summary>
    public TimeSpan MinWatchTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Keeps one collection in memory the way client-go's reflector does: list (from the watch cache),
/// then watch from the list's resourceVersion, applying every event; a watch the server ends is
/// renewed from the last resourceVersion seen; 410 Gone lists again at once; any other failure
/// waits a jittered, capped backoff and lists again, forever. A type the server does not serve counts as
/// empty. Every change of the held objects calls <c>changed</c>.
/// </summary>
public sealed class Reflector(
    WatchedResource resource,
    KubeClient client,
    WatchTiming timing,
    ILogger logger,
    Action changed,
    Action<string, string> restarted,
    ApiOutage? outage = null)
{
    // A reflector on its own still tells an outage once, not once per retry.
    private readonly ApiOutage _outage = outage ?? new ApiOutage(client.Server.ToString(), timing.BackoffCap, logger, TimeProvider.System);

    private readonly object _lock = new();
    private Dictionary<string, StoredObject> _items = new(StringComparer.Ordinal);
    private volatile bool _listed;
    private volatile bool _attempted;
    private volatile bool _notServed;
    private volatile string? _lastError;

    public WatchedResource Resource { get; } = resource;

    /// <summary>True once a list succeeded (or the type turned out not to be served): the store is complete.</summary>
    public bool Listed => _listed;

    /// <summary>True once the first list was tried, whatever its result.</summary>
    public bool Attempted => _attempted;

    /// <summary>True while the server answers 404 for the type.</summary>
    public bool NotServed => _notServed;

    /// <summary>The last failure, until the next success: why the store may be stale or missing.</summary>
    public string? LastError => _lastError;

    /// <summary>The objects held, by name.</summary>
    public IReadOnlyList<StoredObject> Items()
    {
        lock (_lock)
        {
            return _items.Values.OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>Lists and watches until <paramref name="cancellationToken"/> fires; never gives up on errors.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = new Backoff(timing.BackoffCap);
        var notServedBackoff = new Backoff(timing.NotServedRetryCap);
        string? resourceVersion = null;
        var goneInARow = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan delay;
            try
            {
                if (resourceVersion is null)
                {
                    resourceVersion = await ListAsync(cancellationToken).ConfigureAwait(false);
                    _outage.Answered();
                    if (backoff.Failures > 0 || notServedBackoff.Failures > 0)
                    {
                        Log.Recovered(logger, Resource.Description, backoff.Failures + notServedBackoff.Failures);
                    }
                    backoff.Reset();
                    notServedBackoff.Reset();
                }
                (resourceVersion, var emptyEarlyEnd) = await WatchAsync(resourceVersion, backoff, cancellationToken).ConfigureAwait(false);
                goneInARow = 0;
                if (!emptyEarlyEnd)
                {
                    continue;
                }
                // A server or proxy that ends every watch at once, with nothing in it, would
                // otherwise be asked again in a tight loop.
                delay = backoff.Next();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (KubeApiException e) when (e.IsGone)
            {
                restarted(Resource.Label, "gone");
                Log.Relisting(logger, Resource.Description, resourceVersion ?? "");
                resourceVersion = null;
                // One 410 is routine (the watch fell behind compaction); relist at once. Several in
                // a row mean something is wrong with the server: back off like any other error.
                if (goneInARow++ == 0)
                {
                    continue;
                }
                delay = backoff.Next();
            }
            catch (KubeApiException e) when (e.StatusCode == 404)
            {
                restarted(Resource.Label, "not_served");
                _outage.Answered();
                resourceVersion = null;
                delay = notServedBackoff.Next();
                MarkNotServed(delay);
            }
            catch (Exception e) when (IsTransient(e))
            {
                restarted(Resource.Label, "error");
                // Start over with a list, as client-go's reflector does: the list comes from the
                // watch cache, and it cannot miss a delete the way a resumed watch on a restored
                // server could.
                resourceVersion = null;
                _lastError = Describe(e);
                if (!_attempted)
                {
                    // Whoever waits for the first round learns that this kind answered, if badly.
                    _attempted = true;
                    changed();
                }
                delay = backoff.Next();
                _outage.Failed(Resource.Description, _lastError);
                Log.WatchFailed(logger, Resource.Description, _lastError, delay.TotalMilliseconds, backoff.Failures);
            }
            try
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One list, for <c>--once</c>: fills the store, or throws what the server said (404 counts as empty).</summary>
    public async Task ListOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ListAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException e) when (e.StatusCode == 404)
        {
            MarkNotServed(null);
        }
    }

    /// <summary>The errors a retry can cure: the server's answers, the network, a stalled or garbled stream.</summary>
    public static bool IsTransient(Exception e) =>
        e is KubeApiException or HttpRequestException or IOException or TimeoutException or JsonException
            or OperationCanceledException or System.Security.Authentication.AuthenticationException;

    /// <summary>A one-line reason a person can act on, without a stack trace.</summary>
    public static string Describe(Exception e) => e switch
    {
        HttpRequestException { InnerException: { } inner } http when inner.Message != http.Message => $"{Sentence(http.Message)} ({Sentence(inner.Message)})",
        OperationCanceledException => "the request timed out",
        _ => Sentence(e.Message),
    };

    // .NET's messages end with a period; ours go on after them.
    private static string Sentence(string message) => message.TrimEnd('.', ' ');

    private async Task<string> ListAsync(CancellationToken cancellationToken)
    {
        var list = await client.ListAsync(Resource.Type, Resource.FieldSelector, cancellationToken).ConfigureAwait(false);
        var items = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        foreach (var item in list.Items)
        {
            if (Store(item) is { } stored)
            {
                items[stored.Name] = stored;
            }
        }
        bool differs;
        lock (_lock)
        {
            differs = !_listed || _notServed || !SameObjects(_items, items);
            _items = items;
        }
        if (_notServed)
        {
            Log.ServedAgain(logger, Resource.Description);
        }
        _notServed = false;
        _lastError = null;
        _listed = true;
        _attempted = true;
        Log.Listed(logger, Resource.Description, items.Count, list.ResourceVersion);
        if (differs)
        {
            changed();
        }
        return list.ResourceVersion;
    }

    // Returns the resourceVersion to continue from once the server ends the watch, and whether it
    // ended well before its time without a single event.
    private async Task<(string ResourceVersion, bool EmptyEarlyEnd)> WatchAsync(string resourceVersion, Backoff backoff, CancellationToken cancellationToken)
    {
        var events = 0;
        var timeout = timing.MinWatchTimeout * (1 + Random.Shared.NextDouble());
        var timeoutSeconds = Math.Max(1, (int)timeout.TotalSeconds);
        var started = DateTime.UtcNow;
        await foreach (var watchEvent in client.WatchAsync(Resource.Type, resourceVersion, Resource.FieldSelector, timeoutSeconds, cancellationToken).ConfigureAwait(false))
        {
            events++;
            backoff.Reset();
            _outage.Answered();
            Apply(watchEvent);
            resourceVersion = watchEvent.ResourceVersion is { Length: > 0 } next ? next : resourceVersion;
        }
        // A watch the server closed well before the time asked for is worth counting: proxies and
        // restarting API servers do that, and a steady rate of it explains a busy node.
        var early = DateTime.UtcNow - started < TimeSpan.FromSeconds(timeoutSeconds) - TimeSpan.FromSeconds(1);
        if (early)
        {
            restarted(Resource.Label, "closed");
        }
        return (resourceVersion, early && events == 0);
    }

    private void Apply(WatchEvent watchEvent)
    {
        if (watchEvent.Type == WatchEventType.Bookmark)
        {
            return;
        }
        var name = Name(watchEvent.Object);
        if (name is null || (Resource.Name is not null && name != Resource.Name))
        {
            return;
        }
        var type = watchEvent.Type.ToString();
        Log.WatchEventReceived(logger, Resource.Description, type, name, watchEvent.ResourceVersion ?? "");
        lock (_lock)
        {
            if (watchEvent.Type == WatchEventType.Deleted)
            {
                _items.Remove(name);
            }
            else if (Store(watchEvent.Object) is { } stored)
            {
                _items[name] = stored;
            }
        }
        changed();
    }

    private StoredObject? Store(JsonObject item)
    {
        var name = Name(item);
        if (name is null)
        {
            return null;
        }
        var resourceVersion = (item["metadata"] as JsonObject)?["resourceVersion"] is JsonValue v && v.TryGetValue<string>(out var rv) ? rv : "";
        var subject = Resource.Kind == WatchedKind.ConfigMap ? $"ConfigMap/{Resource.Type.Namespace}/{name}" : $"{Resource.Kind}/{name}";
        try
        {
            return new StoredObject(name, resourceVersion, ObjectDecoder.Decode(Resource.Kind, item), null);
        }
        catch (ObjectDecodeException e)
        {
            return new StoredObject(name, resourceVersion, null, Problem.Error(new FieldRef(subject, e.Field), e.Message));
        }
    }

    private void MarkNotServed(TimeSpan? retry)
    {
        bool differs;
        lock (_lock)
        {
            differs = !_listed || _items.Count > 0;
            _items = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        }
        if (!_notServed && retry is { } delay)
        {
            Log.NotServed(logger, Resource.Description, Resource.Type.Path, delay.TotalSeconds);
        }
        _notServed = true;
        _attempted = true;
        _listed = true;
        if (differs)
        {
            changed();
        }
    }

    private static string? Name(JsonObject item) =>
        (item["metadata"] as JsonObject)?["name"] is JsonValue n && n.TryGetValue<string>(out var name) && name.Length > 0 ? name : null;

    private static bool SameObjects(Dictionary<string, StoredObject> before, Dictionary<string, StoredObject> after) =>
        before.Count == after.Count && before.All(b => after.TryGetValue(b.Key, out var a) && a.ResourceVersion == b.Value.ResourceVersion && a.ResourceVersion.Length > 0);
}

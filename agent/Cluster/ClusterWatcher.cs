using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NodeAgent.Logging;
using NodeAgent.Rendering;
using NodeAgent.Resources;

namespace NodeAgent.Cluster;

/// <summary>
/// What the watches hold at one moment. <see cref="Complete"/> is false until every kind has been
/// listed, including the CA ConfigMap that Image/cluster currently names; a render only ever
/// starts from a complete one, so a half-known cluster never reaches the node.
/// </summary>
public sealed record WatchSnapshot(
    bool Complete,
    string Waiting,
    ClusterSnapshot Snapshot,
    IReadOnlyList<Problem> Problems)
{
    /// <summary>Objects that did not decode: invalid input, so nothing is written.</summary>
    public IEnumerable<Problem> Errors => Problems.Where(p => p.IsError);
}

/// <summary>Which objects to watch besides the fixed kinds: where the CA ConfigMaps live.</summary>
public sealed record WatchScope(string CaNamespace, string ManagedCaConfigMap);

/// <summary>
/// Every watched collection of cli.md, each kept by a <see cref="Reflector"/>. The additionalTrustedCA
/// ConfigMap follows Image/cluster: when its <c>spec.additionalTrustedCA.name</c> changes, the old
/// ConfigMap's watch stops and one for the new name starts. Events only mark the cluster changed
/// (<see cref="Changes"/>, a channel of one that coalesces bursts); whoever reads it takes a
/// <see cref="Snapshot"/>.
/// </summary>
public sealed class ClusterWatcher
{
    private readonly KubeClient _client;
    private readonly WatchScope _scope;
    private readonly WatchTiming _timing;
    private readonly ILogger _logger;
    private readonly Action<string, string> _restarted;
    private readonly ApiOutage _outage;
    private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<bool> _imageChanged = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly List<Reflector> _fixed = [];
    private readonly Reflector _images;
    private volatile Reflector? _trustedCa;

    public ClusterWatcher(KubeClient client, WatchScope scope, WatchTiming timing, ILogger logger, Action<string, string>? restarted = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(timing);
        _client = client;
        _outage = new ApiOutage(client.Server.ToString(), timing.BackoffCap, logger, time ?? TimeProvider.System);
        _scope = scope;
        _timing = timing;
        _logger = logger;
        _restarted = restarted ?? ((_, _) => { });
        _images = Create(new WatchedResource(WatchedKind.Image, ResourceType.Images, ImageConfig.ClusterName), ImageChanged);
        _fixed.Add(_images);
        _fixed.Add(Create(new WatchedResource(WatchedKind.ClusterVersion, ResourceType.ClusterVersions, ClusterVersion.ClusterName), MarkChanged));
        _fixed.Add(Create(new WatchedResource(WatchedKind.ImageContentSourcePolicy, ResourceType.ImageContentSourcePolicies), MarkChanged));
        _fixed.Add(Create(new WatchedResource(WatchedKind.ImageDigestMirrorSet, ResourceType.ImageDigestMirrorSets), MarkChanged));
        _fixed.Add(Create(new WatchedResource(WatchedKind.ImageTagMirrorSet, ResourceType.ImageTagMirrorSets), MarkChanged));
        if (ManagedConfigMap(scope.ManagedCaConfigMap) is { } managed)
        {
            _fixed.Add(Create(new WatchedResource(WatchedKind.ConfigMap, ResourceType.ConfigMaps(managed.Namespace), managed.Name), MarkChanged));
        }
    }

    /// <summary>Readable once something changed since the last read; one item however many events.</summary>
    public ChannelReader<bool> Changes => _changes.Reader;

    /// <summary>What is watched, for the start-up log line.</summary>
    public string Describe() => string.Join(", ", _fixed.Select(r => r.Resource.Description)) +
        $", the ConfigMap in {_scope.CaNamespace} that Image/cluster names";

    /// <summary>True once every watched kind has been tried at least once, whatever the answer.</summary>
    public bool FirstRoundAttempted =>
        _fixed.All(r => r.Attempted) && CaConfigMapName() switch
        {
            null => true,
            var name => _trustedCa is { Attempted: true } ca && ca.Resource.Name == name,
        };

    /// <summary>Runs every watch until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var tasks = _fixed.Select(r => Task.Run(() => r.RunAsync(cancellationToken), CancellationToken.None)).ToList();
        CancellationTokenSource? caStop = null;
        Task caTask = Task.CompletedTask;
        try
        {
            while (await _imageChanged.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                _imageChanged.Reader.TryRead(out _);
                var wanted = CaConfigMapName();
                if (wanted == _trustedCa?.Resource.Name)
                {
                    continue;
                }
                if (caStop is not null)
                {
                    await caStop.CancelAsync().ConfigureAwait(false);
                    await caTask.ConfigureAwait(false);
                    caStop.Dispose();
                    caStop = null;
                }
                _trustedCa = null;
                if (wanted is not null)
                {
                    var reflector = Create(new WatchedResource(WatchedKind.ConfigMap, ResourceType.ConfigMaps(_scope.CaNamespace), wanted), MarkChanged);
                    Log.FollowingCaConfigMap(_logger, reflector.Resource.Description);
                    caStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    var token = caStop.Token;
                    _trustedCa = reflector;
                    caTask = Task.Run(() => reflector.RunAsync(token), CancellationToken.None);
                }
                MarkChanged();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (caStop is not null)
            {
                await caStop.CancelAsync().ConfigureAwait(false);
            }
            await Task.WhenAll(tasks.Append(caTask)).ConfigureAwait(false);
            caStop?.Dispose();
        }
    }

    /// <summary>
    /// <c>--once</c>: one list of every kind (Image first, to learn which CA ConfigMap to read).
    /// Throws what the server said; a type it does not serve counts as empty.
    /// </summary>
    public async Task<WatchSnapshot> ListOnceAsync(CancellationToken cancellationToken)
    {
        await _images.ListOnceAsync(cancellationToken).ConfigureAwait(false);
        if (CaConfigMapName() is { } name)
        {
            _trustedCa = Create(new WatchedResource(WatchedKind.ConfigMap, ResourceType.ConfigMaps(_scope.CaNamespace), name), () => { });
        }
        var rest = _fixed.Where(r => r != _images).Append(_trustedCa).OfType<Reflector>();
        await Task.WhenAll(rest.Select(r => r.ListOnceAsync(cancellationToken))).ConfigureAwait(false);
        return Snapshot();
    }

    /// <summary>
    /// The objects held now. Incomplete (and saying what it waits for) while a kind has not been
    /// listed or the CA ConfigMap being watched is not yet the one Image/cluster names.
    /// </summary>
    public WatchSnapshot Snapshot()
    {
        var waiting = new List<string>();
        foreach (var reflector in _fixed.Where(r => !r.Listed))
        {
            waiting.Add(reflector.LastError is { } error ? $"{reflector.Resource.Description} ({error})" : reflector.Resource.Description);
        }
        var caName = CaConfigMapName();
        var trustedCa = _trustedCa;
        if (caName is not null && (trustedCa is null || trustedCa.Resource.Name != caName || !trustedCa.Listed))
        {
            var description = $"ConfigMap {_scope.CaNamespace}/{caName}";
            waiting.Add(trustedCa?.LastError is { } error ? $"{description} ({error})" : description);
        }
        var problems = new List<Problem>();
        var stored = _fixed.Append(caName is null ? null : trustedCa).OfType<Reflector>()
            .SelectMany(r => r.Items())
            .ToList();
        foreach (var item in stored)
        {
            if (item.Error is { } error)
            {
                problems.Add(error);
            }
        }
        var objects = stored.Select(s => s.Decoded).OfType<KubeObject>().ToList();
        var snapshot = new ClusterSnapshot
        {
            Image = objects.OfType<ImageConfig>().FirstOrDefault(),
            ClusterVersion = objects.OfType<ClusterVersion>().FirstOrDefault(),
            ImageContentSourcePolicies = objects.OfType<ImageContentSourcePolicy>().ToList(),
            ImageDigestMirrorSets = objects.OfType<ImageDigestMirrorSet>().ToList(),
            ImageTagMirrorSets = objects.OfType<ImageTagMirrorSet>().ToList(),
            ConfigMaps = objects.OfType<ConfigMap>().ToList(),
        };
        foreach (var reflector in _fixed.Where(r => r.NotServed))
        {
            problems.Add(Problem.Warning(new FieldRef(reflector.Resource.Description, ""),
                $"the API server does not serve {reflector.Resource.Type.Path}; counted as empty"));
        }
        return new WatchSnapshot(waiting.Count == 0, string.Join(", ", waiting), snapshot, problems);
    }

    /// <summary>The CA ConfigMap Image/cluster names now, or null (no Image, or no name).</summary>
    private string? CaConfigMapName()
    {
        var image = _images.Items().Select(i => i.Decoded).OfType<ImageConfig>().FirstOrDefault();
        return image?.Spec?.AdditionalTrustedCA?.Name is { Length: > 0 } name ? name : null;
    }

    private Reflector Create(WatchedResource resource, Action changed) =>
        new(resource, _client, _timing, _logger, changed, _restarted, _outage);

    private void ImageChanged()
    {
        _imageChanged.Writer.TryWrite(true);
        MarkChanged();
    }

    private void MarkChanged() => _changes.Writer.TryWrite(true);

    private static (string Namespace, string Name)? ManagedConfigMap(string value)
    {
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && slash < value.Length - 1 ? (value[..slash], value[(slash + 1)..]) : null;
    }
}

using Microsoft.Extensions.Logging;
using NodeAgent.Logging;

namespace NodeAgent.Cluster;

/// <summary>
/// The API server's failures as one story across every watched kind: one warning when requests
/// start failing (naming the server and the first error), one line when every kind that failed
/// has listed again (how long it took, how many attempts failed). Each kind retries on its own
/// backoff; logging each retry made a five-second outage twenty lines.
/// </summary>
public sealed class ApiOutage(string server, TimeSpan backoffCap, ILogger logger, TimeProvider time)
{
    private readonly object _lock = new();
    private readonly HashSet<string> _failing = new(StringComparer.Ordinal);
    private long _began;
    private int _failures;

    /// <summary>True while a kind has failed and not yet listed again.</summary>
    public bool Ongoing
    {
        get
        {
            lock (_lock)
            {
                return _failing.Count > 0;
            }
        }
    }

    /// <summary>A request for <paramref name="resource"/> failed with <paramref name="error"/>; it is retried.</summary>
    public void Failed(string resource, string error)
    {
        lock (_lock)
        {
            _failures++;
            if (_failing.Count == 0)
            {
                _began = time.GetTimestamp();
                Log.ApiFailing(logger, server, resource, error, backoffCap.TotalSeconds);
            }
            _failing.Add(resource);
        }
    }

    /// <summary>The server answered for <paramref name="resource"/>: it listed (or said it does not serve the type).</summary>
    public void Answered(string resource)
    {
        lock (_lock)
        {
            if (!_failing.Remove(resource) || _failing.Count > 0)
            {
                return;
            }
            var seconds = time.GetElapsedTime(_began).TotalSeconds;
            Log.ApiAnswering(logger, server, seconds, _failures);
            _failures = 0;
        }
    }

    /// <summary>
    /// <paramref name="resource"/> is no longer watched (node-agent stops, or Image/cluster names
    /// another CA ConfigMap): it no longer keeps an outage open. Nothing is logged: the server
    /// has not answered.
    /// </summary>
    public void Forget(string resource)
    {
        lock (_lock)
        {
            if (_failing.Remove(resource) && _failing.Count == 0)
            {
                _failures = 0;
            }
        }
    }
}

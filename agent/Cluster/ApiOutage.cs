using Microsoft.Extensions.Logging;
using NodeAgent.Logging;

namespace NodeAgent.Cluster;

/// <summary>
/// The API server's failures as one story across every watched kind: one warning when requests
/// start failing (naming the server, the kind and the error), a reminder while they go on (every
/// <see cref="ReminderInterval"/>), and one line when the server answers again (how long it took,
/// how many attempts failed). Each kind retries on its own backoff; logging each retry made a
/// five-second outage twenty lines.
/// </summary>
public sealed class ApiOutage(string server, TimeSpan backoffCap, ILogger logger, TimeProvider time)
{
    /// <summary>How often an outage that goes on is logged again.</summary>
    public static readonly TimeSpan ReminderInterval = TimeSpan.FromMinutes(5);

    private readonly object _lock = new();
    private bool _ongoing;
    private DateTimeOffset _began;
    private DateTimeOffset _reminded;
    private int _failures;

    /// <summary>True from the first failed request until the server answers again.</summary>
    public bool Ongoing
    {
        get
        {
            lock (_lock)
            {
                return _ongoing;
            }
        }
    }

    /// <summary>A request for <paramref name="resource"/> failed with <paramref name="error"/>; it is retried.</summary>
    public void Failed(string resource, string error)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            _failures++;
            if (!_ongoing)
            {
                _ongoing = true;
                _began = _reminded = now;
                Log.ApiFailing(logger, server, "", resource, error, backoffCap.TotalSeconds);
            }
            else if (now - _reminded >= ReminderInterval)
            {
                _reminded = now;
                var still = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $" still, for {(now - _began).TotalSeconds:0} s and {_failures} failed attempt(s)");
                Log.ApiFailing(logger, server, still, resource, error, backoffCap.TotalSeconds);
            }
        }
    }

    /// <summary>
    /// The server answered a request (a list, a watch event, a 404 for a type it does not
    /// serve): the outage, if there was one, is over. The kinds still waiting out their backoff
    /// list on their next try; a request that fails again begins a new outage.
    /// </summary>
    public void Answered()
    {
        lock (_lock)
        {
            if (!_ongoing)
            {
                return;
            }
            _ongoing = false;
            var seconds = (time.GetUtcNow() - _began).TotalSeconds;
            Log.ApiAnswering(logger, server, seconds, _failures);
            _failures = 0;
        }
    }
}

using Microsoft.Extensions.Logging;

namespace NodeAgent.Logging;

/// <summary>
/// Every log message node-agent writes, source-generated, with stable event ids per area:
/// 1–9 start, 10–19 input, 20–29 render, 30–39 files, 40–49 reload and rollback, 50–59 failures,
/// 60–69 API server lists and watches, 70–79 the daemon, 80–89 drift (managed files changed by someone else).
/// </summary>
public static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "node-agent {Version} starting: mode {Mode}, root {Root}, reload {Reload}")]
    public static partial void Starting(ILogger logger, string version, string mode, string root, string reload);

    /// <param name="objects">The count with its noun, <c>1 object</c> or <c>7 objects</c>.</param>
    /// <param name="kinds">Each kind's count, ConfigMaps included (<see cref="Sync.SnapshotSummary.Kinds"/>).</param>
    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "read {Objects} from {Path}: {Kinds}")]
    public static partial void ManifestsLoaded(ILogger logger, string objects, string path, string kinds);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "ignored: {Detail}")]
    public static partial void ManifestIgnored(ILogger logger, string detail);

    /// <param name="registryEntries">The count with its noun, <c>1 registry entry</c> or <c>11 registry entries</c>.</param>
    /// <param name="files">What the chosen runtime gets (<see cref="Sync.SnapshotSummary.RuntimeFiles"/>).</param>
    [LoggerMessage(EventId = 20, Level = LogLevel.Information,
        Message = "rendered {RegistryEntries} in {ElapsedMs:0.0} ms; {Files}")]
    public static partial void Rendered(ILogger logger, string registryEntries, double elapsedMs, string files);

    [LoggerMessage(EventId = 21, Level = LogLevel.Error, Message = "render failed with {Errors} error(s); no file was changed")]
    public static partial void RenderFailed(ILogger logger, int errors);

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "{Action} {Path} ({Bytes} bytes)")]
    public static partial void FileChanged(ILogger logger, string action, string path, int bytes);

    [LoggerMessage(EventId = 31, Level = LogLevel.Information, Message = "all files already up to date; nothing written")]
    public static partial void NothingToWrite(ILogger logger);

    [LoggerMessage(EventId = 32, Level = LogLevel.Warning, Message = "removed {Count} temp file(s) left by an interrupted run in {Directory}")]
    public static partial void StaleTempsRemoved(ILogger logger, int count, string directory);

    [LoggerMessage(EventId = 33, Level = LogLevel.Information, Message = "dry run: {Changes} file(s) would change; nothing written")]
    public static partial void DryRun(ILogger logger, int changes);

    [LoggerMessage(EventId = 34, Level = LogLevel.Warning,
        Message = "took over {Path}, which node-agent did not write; the original is kept in {Copy} and put back when node-agent stops managing the file")]
    public static partial void TookOver(ILogger logger, string path, string copy);

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "no runtime reload: {Reason}")]
    public static partial void ReloadSkipped(ILogger logger, string reason);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "{What} succeeded in {ElapsedMs:0} ms: {Command}")]
    public static partial void CommandSucceeded(ILogger logger, string what, double elapsedMs, string command);

    [LoggerMessage(EventId = 42, Level = LogLevel.Error, Message = "{What} failed (exit {ExitCode}): {Command}: {Output}")]
    public static partial void CommandFailed(ILogger logger, string what, int exitCode, string command, string output);

    [LoggerMessage(EventId = 45, Level = LogLevel.Information, Message = "{Unit} confirmed the reload: {Line}")]
    public static partial void ReloadConfirmed(ILogger logger, string unit, string line);

    [LoggerMessage(EventId = 46, Level = LogLevel.Error,
        Message = "{Unit} refused the new configuration and keeps running with the old one (it would fail at its next start): {Line}")]
    public static partial void ReloadRejected(ILogger logger, string unit, string line);

    [LoggerMessage(EventId = 47, Level = LogLevel.Warning,
        Message = "{Unit} logged neither \"Applied new registry configuration\" nor a reload error within {Seconds:0} s of the reload; going on with the health check")]
    public static partial void ReloadUnconfirmed(ILogger logger, string unit, double seconds);

    [LoggerMessage(EventId = 48, Level = LogLevel.Debug, Message = "the reload is not confirmed from the journal: {Reason}")]
    public static partial void ReloadJournalUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 43, Level = LogLevel.Error, Message = "rolled back to the last good files: {Paths}")]
    public static partial void RolledBack(ILogger logger, string paths);

    [LoggerMessage(EventId = 44, Level = LogLevel.Error, Message = "the runtime is still unhealthy after the rollback; the node needs attention")]
    public static partial void StillUnhealthy(ILogger logger);

    [LoggerMessage(EventId = 50, Level = LogLevel.Error, Message = "{Message}")]
    public static partial void Failed(ILogger logger, string message);

    [LoggerMessage(EventId = 60, Level = LogLevel.Debug, Message = "listed {Resource}: {Items} object(s) at resourceVersion {ResourceVersion}")]
    public static partial void Listed(ILogger logger, string resource, int items, string resourceVersion);

    // Each kind's retries are detail: the outage as a whole is ApiFailing and ApiAnswering.
    [LoggerMessage(EventId = 61, Level = LogLevel.Debug, Message = "{Resource}: {Error}; retrying in {DelayMs:0} ms (attempt {Attempt})")]
    public static partial void WatchFailed(ILogger logger, string resource, string error, double delayMs, int attempt);

    [LoggerMessage(EventId = 62, Level = LogLevel.Warning,
        Message = "{Resource}: the API server does not serve {Path} (is its CRD installed?); treating it as empty and checking again in {DelayS:0} s")]
    public static partial void NotServed(ILogger logger, string resource, string path, double delayS);

    [LoggerMessage(EventId = 63, Level = LogLevel.Information, Message = "{Resource}: resourceVersion {ResourceVersion} is too old (410 Gone); listing again")]
    public static partial void Relisting(ILogger logger, string resource, string resourceVersion);

    [LoggerMessage(EventId = 64, Level = LogLevel.Debug, Message = "{Resource}: back after {Failures} failed attempt(s)")]
    public static partial void Recovered(ILogger logger, string resource, int failures);

    [LoggerMessage(EventId = 65, Level = LogLevel.Information, Message = "CA ConfigMap: now following {ConfigMap} (named by Image/cluster spec.additionalTrustedCA.name)")]
    public static partial void FollowingCaConfigMap(ILogger logger, string configMap);

    [LoggerMessage(EventId = 66, Level = LogLevel.Debug, Message = "{Resource}: {Type} {Name} at resourceVersion {ResourceVersion}")]
    public static partial void WatchEventReceived(ILogger logger, string resource, string type, string name, string resourceVersion);

    [LoggerMessage(EventId = 67, Level = LogLevel.Information, Message = "{Resource}: the API server serves it again")]
    public static partial void ServedAgain(ILogger logger, string resource);

    [LoggerMessage(EventId = 68, Level = LogLevel.Warning,
        Message = "requests to the API server {Server} are failing{Still} ({Resource}: {Error}); every watch retries with a backoff of at most {CapS:0} s, and one line follows when the server answers again")]
    public static partial void ApiFailing(ILogger logger, string server, string still, string resource, string error, double capS);

    [LoggerMessage(EventId = 69, Level = LogLevel.Information,
        Message = "the API server {Server} answers again, after {DurationS:0.0} s and {Failures} failed attempt(s)")]
    public static partial void ApiAnswering(ILogger logger, string server, double durationS, int failures);

    [LoggerMessage(EventId = 70, Level = LogLevel.Information, Message = "API server {Server} ({Source}); watching {Resources}")]
    public static partial void Watching(ILogger logger, string server, string source, string resources);

    [LoggerMessage(EventId = 71, Level = LogLevel.Information, Message = "serving /healthz, /readyz and /metrics on http://{Endpoint}")]
    public static partial void Listening(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 72, Level = LogLevel.Information, Message = "waiting for {Waiting} before the first render")]
    public static partial void WaitingForSnapshot(ILogger logger, string waiting);

    [LoggerMessage(EventId = 73, Level = LogLevel.Information, Message = "sync {Outcome} in {ElapsedMs:0.0} ms: {Summary}")]
    public static partial void Synced(ILogger logger, string outcome, double elapsedMs, string summary);

    [LoggerMessage(EventId = 74, Level = LogLevel.Error, Message = "sync {Outcome} in {ElapsedMs:0.0} ms: {Summary}")]
    public static partial void SyncFailed(ILogger logger, string outcome, double elapsedMs, string summary);

    [LoggerMessage(EventId = 75, Level = LogLevel.Information, Message = "stopping ({Signal}); finishing the pass in progress")]
    public static partial void Stopping(ILogger logger, string signal);

    [LoggerMessage(EventId = 76, Level = LogLevel.Information, Message = "stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 77, Level = LogLevel.Warning, Message = "{Problem}")]
    public static partial void InputWarning(ILogger logger, string problem);

    [LoggerMessage(EventId = 78, Level = LogLevel.Error, Message = "{Problem}")]
    public static partial void InputError(ILogger logger, string problem);

    [LoggerMessage(EventId = 79, Level = LogLevel.Warning, Message = "systemd notification failed: {Detail}")]
    public static partial void NotifyFailed(ILogger logger, string detail);

    [LoggerMessage(EventId = 80, Level = LogLevel.Warning,
        Message = "drift: {Path} was {Change} by another writer (node-agent cannot tell which) since node-agent wrote it; {Action}; diff from node-agent's content to the file now: {Diff}")]
    public static partial void Drifted(ILogger logger, string path, string change, string action, string diff);

    [LoggerMessage(EventId = 81, Level = LogLevel.Warning,
        Message = "drift: another writer keeps changing {Path}; node-agent backs off and restores it at most every {IntervalS:0} s from now on (doubling while this goes on, up to {CapS:0} s; back to {BaseS:0} s once the file stays as written for a whole interval)")]
    public static partial void DriftBackingOff(ILogger logger, string path, double intervalS, double capS, double baseS);

    [LoggerMessage(EventId = 82, Level = LogLevel.Information,
        Message = "watching {Directories} (inotify) for other writers changing the files node-agent manages; a drifted file is restored at most every {BackoffS:0} s")]
    public static partial void WatchingFiles(ILogger logger, string directories, double backoffS);

    [LoggerMessage(EventId = 83, Level = LogLevel.Warning, Message = "file watch: {Error}; checking every managed file with a full pass")]
    public static partial void FileWatchFailed(ILogger logger, string error);
}

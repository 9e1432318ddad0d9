namespace NodeAgent.Node;

/// <summary>How the runtime is told about new files: a reload command and a health check, or neither.</summary>
public sealed record ReloadPlan(string? ReloadCommand, string? HealthCommand, string Reason)
{
    /// <summary>
    /// The unit whose journal confirms the reload: crio.service whenever the reload is CRI-O's
    /// (CRI-O refuses a configuration silently, node-apply.md §3); null for another command.
    /// </summary>
    public string? JournalUnit => ReloadCommand is not null && ReloadCommand.Contains(CrioJournal.Unit, StringComparison.Ordinal) ? CrioJournal.Unit : null;

    // ignore-dependencies: node-agent.service is Before=crio.service, so a plain reload job queued
    // while node-agent is still starting would wait for its start job, which waits for this pass.
    public const string DefaultReload = "systemctl reload --job-mode=ignore-dependencies crio.service";
    public const string DefaultHealth = "systemctl is-active --quiet crio.service";

    private static readonly string[] SystemctlPaths = ["/usr/bin/systemctl", "/bin/systemctl"];

    /// <summary>
    /// cli.md's rule: an explicit command wins ('' disables); otherwise, only with root <c>/</c>,
    /// reload CRI-O when it is active (at bootstrap it starts later and reads the files itself).
    /// </summary>
    public static async Task<ReloadPlan> ResolveAsync(string? reloadCommand, string? healthCommand, HostPaths paths, CancellationToken cancellationToken)
    {
        if (reloadCommand is not null)
        {
            return reloadCommand.Length == 0
                ? new ReloadPlan(null, null, "disabled by --reload-command ''")
                : new ReloadPlan(reloadCommand, string.IsNullOrEmpty(healthCommand) ? null : healthCommand, "configured");
        }
        if (paths.Root != "/")
        {
            return new ReloadPlan(null, null, $"root is {paths.Root}, not /, and no --reload-command was given");
        }
        if (!SystemctlPaths.Any(File.Exists))
        {
            return new ReloadPlan(null, null, "systemctl is not installed");
        }
        var active = await CommandRunner.RunAsync(DefaultHealth, CommandRunner.DefaultTimeout, cancellationToken).ConfigureAwait(false);
        return active.Succeeded
            ? new ReloadPlan(DefaultReload, string.IsNullOrEmpty(healthCommand) ? DefaultHealth : healthCommand, "crio.service is active")
            : new ReloadPlan(null, null, "crio.service is not active; CRI-O reads the files when it starts");
    }
}

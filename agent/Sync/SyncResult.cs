namespace NodeAgent.Sync;

/// <summary>
/// What one reconcile pass did: the outcome plus the counts that metrics, <c>/readyz</c> and
/// systemd's <c>STATUS=</c> report.
/// </summary>
public sealed record SyncResult(SyncOutcome Outcome)
{
    /// <summary>Files whose bytes changed on disk (written, created, removed or restored).</summary>
    public int FilesChanged { get; init; }

    /// <summary>Reload commands run, including the one after a rollback.</summary>
    public int Reloads { get; init; }

    /// <summary>Reloads or health checks that failed.</summary>
    public int FailedReloads { get; init; }

    /// <summary>Errors found in the input (the render, or objects that did not decode).</summary>
    public int RenderErrors { get; init; }

    /// <summary>The earliest notAfter of the CA certificates rendered, when there are any.</summary>
    public DateTimeOffset? CaEarliestExpiry { get; init; }

    /// <summary>Registry host → the earliest notAfter of its CA certificates.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> CaExpiryByHost { get; init; } = new Dictionary<string, DateTimeOffset>();

    /// <summary>SHA-256 of everything rendered (the same on every node for the same objects); empty when nothing rendered.</summary>
    public string RenderedHash { get; init; } = "";

    /// <summary>What status.json says after this pass; null for a dry run, or invalid input in <c>--once</c>.</summary>
    public NodeStatus? Status { get; init; }

    /// <summary>Drifted files reported in this pass: changed by someone else since node-agent wrote them (paths relative to the root).</summary>
    public IReadOnlyList<string> Drifted { get; init; } = [];

    /// <summary>Drifted files whose restore the drift back-off holds back for a later pass.</summary>
    public IReadOnlyList<string> DriftHeld { get; init; } = [];

    /// <summary>One human line: what happened, or why it failed.</summary>
    public string Summary { get; init; } = "";

    public bool Succeeded => Outcome is SyncOutcome.Applied or SyncOutcome.Unchanged or SyncOutcome.DryRun;
}

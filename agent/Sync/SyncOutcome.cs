namespace NodeAgent.Sync;

/// <summary>How one reconcile pass ended.</summary>
public enum SyncOutcome
{
    /// <summary>Files changed and, where needed, the runtime reloaded and stayed healthy.</summary>
    Applied,

    /// <summary>Every file already had the rendered bytes.</summary>
    Unchanged,

    /// <summary>Nothing written; the diff was printed.</summary>
    DryRun,

    /// <summary>The input is invalid; nothing was written.</summary>
    InvalidInput,

    /// <summary>An I/O or other runtime error; files written before it stay (each atomic).</summary>
    Failed,

    /// <summary>The reload or health check failed and the last good files were put back.</summary>
    RolledBack,

    /// <summary>The API server could not be reached or read; nothing was written.</summary>
    ClusterUnreachable,
}

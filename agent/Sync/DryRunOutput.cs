namespace NodeAgent.Sync;

/// <summary>
/// Where a dry run reports. Text: the unified diff on <paramref name="Diff"/> (stdout, so it can
/// be piped to <c>patch</c>) and the impact summary on <paramref name="Impact"/> (stderr). JSON:
/// one document with both on <paramref name="Diff"/>.
/// </summary>
public sealed record DryRunOutput(TextWriter Diff, TextWriter Impact, bool Json);

namespace NodeAgent.Hosting;

/// <summary>
/// Whether the daemon is ready (<c>/readyz</c> answers 200) and, when it is not, why: the reason
/// is the 503 body, so an operator sees it with a plain curl.
/// </summary>
public sealed record Readiness(bool Ready, string Reason);

namespace NodeAgent.Hosting;

/// <summary>The exit codes of cli.md.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int RuntimeFailure = 1;
    public const int InvalidInput = 2;
    public const int ClusterUnreachable = 3;
}

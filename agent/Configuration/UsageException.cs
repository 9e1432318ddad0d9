namespace NodeAgent.Configuration;

/// <summary>Bad usage or settings: exit code 2, nothing touched.</summary>
public sealed class UsageException(string message) : Exception(message);

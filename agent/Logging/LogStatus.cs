using Microsoft.Extensions.Logging;

namespace NodeAgent.Logging;

/// <summary>Status reporting to the API server (Node annotation, Events) and CA expiry: event ids 90–99.</summary>
public static partial class Log
{
    [LoggerMessage(EventId = 90, Level = LogLevel.Warning,
        Message = "could not publish the node status ({What}) to the API server: {Reason}; the node's files are not affected. Is the optional RBAC deploy/optional/status-rbac.yaml applied?")]
    public static partial void StatusPublishFailed(ILogger logger, string what, string reason);

    [LoggerMessage(EventId = 91, Level = LogLevel.Information, Message = "node status published again after earlier failures")]
    public static partial void StatusPublishRecovered(ILogger logger);

    [LoggerMessage(EventId = 92, Level = LogLevel.Warning,
        Message = "the CA certificate for {Host} expires at {NotAfter} ({Days} days left); replace it in the additionalTrustedCA ConfigMap")]
    public static partial void CaExpiring(ILogger logger, string host, string notAfter, int days);

    [LoggerMessage(EventId = 93, Level = LogLevel.Error,
        Message = "the CA certificate for {Host} expired at {NotAfter}; pulls from that registry fail TLS verification")]
    public static partial void CaExpired(ILogger logger, string host, string notAfter);
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Tests.Support;

/// <summary>An in-process logger that keeps every message with its level and event id, for assertions.</summary>
public sealed class RecordingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, int EventId, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        Entries.Enqueue((logLevel, eventId.Id, formatter(state, exception)));
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Tests.Support;

/// <summary>An <see cref="ILogger"/> that keeps every message with its event id and level, for in-process tests.</summary>
public sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<(int EventId, LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(int EventId, LogLevel Level, string Message)> Entries => [.. _entries];

    public IReadOnlyList<string> Messages(int eventId) => Entries.Where(e => e.EventId == eventId).Select(e => e.Message).ToList();

    public void Clear() => _entries.Clear();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _entries.Enqueue((eventId.Id, logLevel, formatter(state, exception)));
    }
}

using System.Text.Json;

namespace NodeAgent.Cluster;

/// <summary>System.Text.Json's reader message without its position suffix and reader-option advice.</summary>
public static class JsonErrorText
{
    public static string Plain(JsonException e) =>
        e.Message.Split(" Path:")[0].Split(" LineNumber:")[0].Replace(" Change the reader options.", "", StringComparison.Ordinal).TrimEnd('.');
}

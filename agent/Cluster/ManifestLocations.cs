using System.Text.Json.Nodes;
using NodeAgent.Rendering;

namespace NodeAgent.Cluster;

/// <summary>
/// Where each object read from <c>--manifests</c> was written, so a problem the renderer finds
/// later (named by object and field) is printed with the file and line of that field, as the
/// loader's own problems are.
/// </summary>
public sealed class ManifestLocations
{
    private readonly Dictionary<string, (Func<int?, string> At, JsonObject Root, SourceLines Lines)> _objects = new(StringComparer.Ordinal);

    public static readonly ManifestLocations None = new();

    internal void Add(string subject, Func<int?, string> at, JsonObject root, SourceLines lines) => _objects[subject] = (at, root, lines);

    /// <summary>"file:line" (and the document, in a file of several) of the field a problem names, or null.</summary>
    public string? Locate(FieldRef where)
    {
        if (!_objects.TryGetValue(where.Subject, out var found))
        {
            return null;
        }
        return found.At(ObjectDecoder.LineOf(found.Root, where.Field, found.Lines));
    }

    /// <summary>The problem as printed: <c>error: file:line: Kind/name: field: message</c> when the object came from a file.</summary>
    public string Format(Problem problem) =>
        Locate(problem.Where) is { } place
            ? $"{(problem.IsError ? "error" : "warning")}: {place}: {problem.Where}: {problem.Message}"
            : problem.ToString();
}

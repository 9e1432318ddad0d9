using System.Text.Json;
using System.Text.Json.Nodes;
using NodeAgent.Rendering;

namespace NodeAgent.Impact;

/// <summary>A policy.json scope whose requirements changed, with what it means for images under it.</summary>
/// <param name="Scope"><c>default</c>, or <c>TRANSPORT SCOPE</c> such as <c>docker quay.io/team</c>
/// (<c>docker ""</c> for a transport's own default).</param>
public sealed record PolicyChange(string Scope, string Before, string After);

/// <summary>
/// Compares two policy.json documents scope by scope. A verdict is what containers/image decides
/// for an image whose most specific scope is that one: every requirement must hold.
/// </summary>
public static class PolicyImpact
{
    public const string Unset = "not set (a broader scope decides)";

    public static IReadOnlyList<PolicyChange> Compare(byte[]? before, byte[]? after)
    {
        var old = Scopes(before);
        var current = Scopes(after);
        var changes = new List<PolicyChange>();
        foreach (var scope in old.Keys.Union(current.Keys).Order(ByteOrder.Instance))
        {
            old.TryGetValue(scope, out var was);
            current.TryGetValue(scope, out var now);
            if (was?.ToJsonString() != now?.ToJsonString())
            {
                changes.Add(new PolicyChange(scope, Verdict(was), Verdict(now)));
            }
        }
        return changes;
    }

    /// <summary>What a requirement list means: rejected, accepted, or accepted only when signed.</summary>
    public static string Verdict(JsonNode? requirements)
    {
        if (requirements is null)
        {
            return Unset;
        }
        if (requirements is not JsonArray { Count: > 0 } list)
        {
            return "invalid (containers/image refuses an empty or non-list requirement)";
        }
        var types = list.Select(r => (r as JsonObject)?["type"]?.GetValueKind() == JsonValueKind.String ? r!["type"]!.GetValue<string>() : "?").ToList();
        if (types.Contains("reject"))
        {
            return "rejected";
        }
        var signed = types.Where(t => t != "insecureAcceptAnything").Distinct().Order(ByteOrder.Instance).ToList();
        return signed.Count == 0 ? "accepted" : $"accepted only if signed ({string.Join(", ", signed)})";
    }

    // Null or unparsable documents have no scopes: every scope of the other side shows as set or unset.
    private static Dictionary<string, JsonNode?> Scopes(byte[]? document)
    {
        var scopes = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (document is null)
        {
            return scopes;
        }
        JsonObject? policy;
        try
        {
            policy = JsonNode.Parse(document) as JsonObject;
        }
        catch (JsonException)
        {
            return scopes;
        }
        if (policy is null)
        {
            return scopes;
        }
        if (policy.TryGetPropertyValue("default", out var fallback))
        {
            scopes["default"] = fallback;
        }
        if (policy["transports"] is JsonObject transports)
        {
            foreach (var (transport, entries) in transports)
            {
                if (entries is JsonObject byScope)
                {
                    foreach (var (scope, requirements) in byScope)
                    {
                        scopes[$"{transport} {(scope.Length == 0 ? "\"\"" : scope)}"] = requirements;
                    }
                }
            }
        }
        return scopes;
    }
}

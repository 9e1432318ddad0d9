using System.Text.Json.Nodes;

namespace NodeAgent.Rendering;

/// <summary>
/// MCO's <c>updatePolicyJSON</c>, editing a base policy instead of replacing its docker and
/// atomic transports, and with node-agent's deviation Q8 (registries.md, top).
/// </summary>
public static class PolicyRenderer
{
    /// <summary>MCO's template policy.json.</summary>
    public const string DefaultBasePolicy =
        """{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker-daemon":{"":[{"type":"insecureAcceptAnything"}]}}}""";

    private const string Reject = "reject";
    private const string Accept = "insecureAcceptAnything";

    public static JsonObject ParseDefault() => (JsonObject)JsonNode.Parse(DefaultBasePolicy)!;

    public static JsonObject Render(
        JsonObject basePolicy,
        IReadOnlyList<ScopeEntry> policyBlocked,
        IReadOnlyList<string> payloadAllowed,
        IReadOnlyList<ScopeEntry> adminAllowed,
        FieldRef registrySources,
        List<Problem> problems)
    {
        var policy = (JsonObject)basePolicy.DeepClone();
        if (policyBlocked.Count == 0 && payloadAllowed.Count == 0 && adminAllowed.Count == 0)
        {
            return policy;
        }
        if (adminAllowed.Count > 0 && policyBlocked.Count > 0)
        {
            problems.Add(Problem.Error(registrySources,
                "invalid images config: only one of AllowedRegistries or BlockedRegistries may be specified"));
            return policy;
        }
        foreach (var allowed in adminAllowed)
        {
            if (!ScopeRules.IsValidRegistriesConfScope(allowed.Scope))
            {
                problems.Add(Problem.Error(allowed.Origin, $"invalid entry for allowed registries {GoQuote.Quote(allowed.Scope)}"));
            }
        }

        var scopes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (adminAllowed.Count > 0)
        {
            policy["default"] = Requirement(Reject);
            foreach (var scope in payloadAllowed)
            {
                scopes[scope] = Accept;
            }
            foreach (var allowed in adminAllowed)
            {
                scopes[allowed.Scope] = Accept;
            }
        }
        else if (payloadAllowed.Count > 0)
        {
            // Q8: MCO would turn the default into reject here; node-agent only admits the payload scopes.
            foreach (var scope in payloadAllowed)
            {
                scopes[scope] = Accept;
            }
            if (policyBlocked.Count == 0)
            {
                problems.Add(Problem.Warning(registrySources,
                    $"blocked scope equals the payload repository {GoQuote.Quote(payloadAllowed[0])}: node-agent keeps policy.json's default " +
                    "as it is and accepts the payload scope, where MCO would make the default reject every other image (quirk Q8)"));
            }
        }
        if (policyBlocked.Count > 0)
        {
            policy["default"] = Requirement(Accept);
            foreach (var blocked in policyBlocked)
            {
                scopes[blocked.Scope] = Reject;
            }
        }

        var transports = policy["transports"] as JsonObject;
        if (transports is null)
        {
            transports = [];
            policy["transports"] = transports;
        }
        SetScopes(transports, "docker", scopes, _ => true);
        // MCO leaves out of the atomic transport any scope with three or more slashes.
        SetScopes(transports, "atomic", scopes, scope => scope.Count(c => c == '/') < 3);
        return policy;
    }

    private static void SetScopes(JsonObject transports, string transport, Dictionary<string, string> scopes, Func<string, bool> include)
    {
        if (transports[transport] is not JsonObject target)
        {
            target = [];
            transports[transport] = target;
        }
        foreach (var (scope, type) in scopes)
        {
            if (include(scope))
            {
                target[scope] = Requirement(type);
            }
        }
    }

    // The JsonNode constructor, not a collection expression: that binds to JsonArray.Add<T>, which
    // may serialize arbitrary types by reflection and so is not trim-safe.
    private static JsonArray Requirement(string type) => new(new JsonObject { ["type"] = type });
}

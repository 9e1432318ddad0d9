using System.Text.Json.Serialization;

namespace NodeAgent.Consumer;

// What `node-agent explain` reports. These records are the JSON output (camelCase, every key
// always present, null when it does not apply), documented in README.md "Explain a pull":
// change them only by adding keys.

/// <summary>The whole answer for one IMAGE argument.</summary>
public sealed record Explanation(
    string Input,
    string Root,
    ExplainedFiles Files,
    IReadOnlyList<string> Notes,
    ShortNameResolution? ShortName,
    IReadOnlyList<CandidateExplanation> Candidates,
    IReadOnlyList<string> Warnings);

/// <summary>The files read, relative to the root, in the order read; null policy when it is missing.</summary>
public sealed record ExplainedFiles(IReadOnlyList<string> RegistriesConf, string? PolicyJson, string? ShortNameAliases);

/// <summary>How a short name becomes fully qualified references (containers/image <c>pkg/shortnames</c>).</summary>
public sealed record ShortNameResolution(
    string Name,
    string Mode,
    string? ModeOrigin,
    string? Alias,
    string? AliasOrigin,
    IReadOnlyList<string> SearchRegistries,
    string? SearchRegistriesOrigin,
    string Outcome);

/// <summary>One fully qualified reference and everything about pulling it.</summary>
public sealed record CandidateExplanation(
    string Reference,
    bool ByDigest,
    IReadOnlyList<string> Notes,
    RegistryMatch? Registry,
    IReadOnlyList<SourceExplanation> Sources,
    IReadOnlyList<SkippedMirror> SkippedMirrors,
    PolicyExplanation Policy);

/// <summary>The <c>[[registry]]</c> table that applies: the longest matching prefix.</summary>
public sealed record RegistryMatch(string Prefix, string Location, string Origin, int Line, bool Insecure, bool Blocked, bool MirrorByDigestOnly);

/// <summary>One pull source in the order containers/image tries them.</summary>
/// <param name="Kind"><c>mirror</c> or <c>primary</c>.</param>
/// <param name="Contacted">False when containers/image refuses it before connecting (blocked).</param>
public sealed record SourceExplanation(
    int Order,
    string Kind,
    string Reference,
    string Host,
    bool Insecure,
    string? PullFromMirror,
    bool Contacted,
    string? NotContactedReason,
    CertsChoice Certs,
    ProbeResult? Probe);

/// <summary>A mirror of the matched table that this reference does not use, and why.</summary>
public sealed record SkippedMirror(string Location, string? PullFromMirror, string Reason);

/// <summary>The policy.json decision for the logical reference (mirrors are transparent to it).</summary>
public sealed record PolicyExplanation(
    string? File,
    string Transport,
    IReadOnlyList<string> ScopesLookedUp,
    string? MatchedScope,
    string? Section,
    IReadOnlyList<PolicyRequirement> Requirements,
    string Verdict,
    string Summary);

/// <summary>What a TLS connection to an endpoint showed (<c>--probe</c> only).</summary>
/// <param name="Verified">True when the certificate was verified; false for an insecure endpoint's unverified success.</param>
public sealed record ProbeResult(
    string Address,
    bool Ok,
    bool Verified,
    string? TlsVersion,
    string? Subject,
    string? NotAfter,
    string? VerifiedBy,
    string? Error);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(Explanation))]
public sealed partial class ExplanationJsonContext : JsonSerializerContext;

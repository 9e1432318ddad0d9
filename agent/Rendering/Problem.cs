namespace NodeAgent.Rendering;

public enum ProblemSeverity
{
    Warning,
    Error,
}

/// <summary>Where a value came from: the object (<c>Kind/name</c>) and the field path inside it.</summary>
public sealed record FieldRef(string Subject, string Field)
{
    public FieldRef Child(string name) => this with { Field = Field.Length == 0 ? name : $"{Field}.{name}" };

    public FieldRef Index(int index) => this with { Field = $"{Field}[{index}]" };

    public override string ToString() => Field.Length == 0 ? Subject : $"{Subject}: {Field}";
}

/// <summary>
/// One finding of a render, printed as <c>error: Kind/name: field: message</c> or
/// <c>warning: …</c>. Errors stop anything from being written; warnings never change the outcome.
/// </summary>
public sealed record Problem(ProblemSeverity Severity, FieldRef Where, string Message)
{
    public static Problem Error(FieldRef where, string message) => new(ProblemSeverity.Error, where, message);

    public static Problem Warning(FieldRef where, string message) => new(ProblemSeverity.Warning, where, message);

    public bool IsError => Severity == ProblemSeverity.Error;

    public override string ToString() =>
        $"{(IsError ? "error" : "warning")}: {Where}: {Message}";
}

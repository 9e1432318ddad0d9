namespace NodeAgent.Cluster;

/// <summary>What a value in an object's schema may be.</summary>
public enum FieldShape
{
    /// <summary>A string, number or boolean.</summary>
    Scalar,

    /// <summary>An object with a fixed set of fields.</summary>
    Record,

    /// <summary>A list whose items all have <see cref="FieldSchema.Items"/>.</summary>
    Array,

    /// <summary>An object with free keys whose values all have <see cref="FieldSchema.Items"/> (labels, ConfigMap data).</summary>
    Map,

    /// <summary>Anything: <c>status</c>, and the opaque <c>managedFields[].fieldsV1</c>.</summary>
    Any,
}

/// <summary>
/// The structural schema of a field, as a CRD's openAPIV3Schema gives it, reduced to what strict
/// field validation needs: which fields exist and whether a value is a scalar, an object or a list.
/// </summary>
public sealed class FieldSchema
{
    private FieldSchema(FieldShape shape, IReadOnlyDictionary<string, FieldSchema>? fields, FieldSchema? items)
    {
        Shape = shape;
        Fields = fields ?? new Dictionary<string, FieldSchema>(StringComparer.Ordinal);
        Items = items;
    }

    public FieldShape Shape { get; }

    /// <summary>The fields of an <see cref="FieldShape.Record"/>, by their exact (case-sensitive) name.</summary>
    public IReadOnlyDictionary<string, FieldSchema> Fields { get; }

    /// <summary>The items of an <see cref="FieldShape.Array"/>, or the values of a <see cref="FieldShape.Map"/>.</summary>
    public FieldSchema? Items { get; }

    public static readonly FieldSchema Scalar = new(FieldShape.Scalar, null, null);
    public static readonly FieldSchema Any = new(FieldShape.Any, null, null);
    public static readonly FieldSchema Strings = ArrayOf(Scalar);

    public static FieldSchema Record(params (string Name, FieldSchema Schema)[] fields) =>
        new(FieldShape.Record, fields.ToDictionary(f => f.Name, f => f.Schema, StringComparer.Ordinal), null);

    /// <summary>An object whose every field is a scalar.</summary>
    public static FieldSchema RecordOfScalars(params string[] names) =>
        Record(names.Select(n => (n, Scalar)).ToArray());

    public static FieldSchema ArrayOf(FieldSchema items) => new(FieldShape.Array, null, items);

    public static FieldSchema MapOf(FieldSchema values) => new(FieldShape.Map, null, values);
}

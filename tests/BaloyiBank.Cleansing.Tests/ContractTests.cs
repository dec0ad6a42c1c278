using System.Reflection;
using System.Text.Json;
using BaloyiBank.Delta;
using BaloyiBank.Generator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Cleansing.Tests;

/// <summary>The row types match the silver schemas, the options validate, and the generator mapping is complete.</summary>
public sealed class ContractTests
{
    public static TheoryData<Type, string> RowTables => new()
    {
        { typeof(TransactionRow), "transactions" },
        { typeof(CustomerRow), "customers" },
        { typeof(AccountRow), "accounts" },
        { typeof(LoanRow), "loans" },
        { typeof(LoanPaymentRow), "loan_payments" },
        { typeof(QuarantineRow), "quarantine" },
    };

    [Theory]
    [MemberData(nameof(RowTables))]
    public void Each_row_type_has_exactly_its_tables_columns_with_matching_types(Type rowType, string tableName)
    {
        var table = SilverTables.All.Single(t => t.Name == tableName);
        var properties = rowType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.Name != nameof(SilverRow.Table))
            .ToDictionary(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name));

        Assert.Equal(table.Columns.Select(c => c.Name).Order(), properties.Keys.Order());
        foreach (var column in table.Columns)
        {
            var property = properties[column.Name];
            var nullable = new NullabilityInfoContext().Create(property).ReadState == NullabilityState.Nullable;
            Assert.True(column.Nullable == nullable, $"{tableName}.{column.Name}: nullable {column.Nullable} vs property {nullable}");
            Assert.Equal(ClrTypeOf(column.Type), property.PropertyType);
        }

        Assert.All(table.PartitionColumns, name => Assert.Contains(table.Columns, c => c.Name == name && c.Type == ColumnType.Date));
    }

    [Fact]
    public void Every_silver_row_carries_the_lineage_columns()
    {
        string[] lineage = ["source_partition", "source_offset", "enqueued_at", "ingested_at", "schema_version", "occurred_at"];
        Assert.All(SilverTables.All.Where(t => t.Name != "quarantine"), table =>
            Assert.All(lineage, column => Assert.Contains(table.Columns, c => c.Name == column)));
    }

    private static Type ClrTypeOf(ColumnType type) => type switch
    {
        ColumnType.String => typeof(string),
        ColumnType.Long => typeof(long),
        ColumnType.Integer => typeof(int),
        ColumnType.Boolean => typeof(bool),
        ColumnType.Double => typeof(double),
        ColumnType.Money or ColumnType.Rate => typeof(decimal),
        ColumnType.Timestamp => typeof(DateTimeOffset),
        ColumnType.Date => typeof(DateOnly),
        ColumnType.Binary => typeof(ReadOnlyMemory<byte>),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    [Fact]
    public void Every_generator_kind_maps_to_an_expected_outcome()
    {
        var expected = new Dictionary<EventKind, (OutcomeKind, string[])>
        {
            [EventKind.Clean] = (OutcomeKind.Valid, []),
            [EventKind.Late] = (OutcomeKind.Valid, []),
            [EventKind.Duplicate] = (OutcomeKind.Duplicate, []),
            [EventKind.MalformedJson] = (OutcomeKind.Quarantined, [QuarantineReasons.InvalidUtf8, QuarantineReasons.MalformedJson]),
            [EventKind.MissingField] = (OutcomeKind.Quarantined, [QuarantineReasons.MissingField]),
            [EventKind.UnknownCurrency] = (OutcomeKind.Quarantined, [QuarantineReasons.UnknownCurrency]),
            [EventKind.NonPositiveAmount] = (OutcomeKind.Quarantined, [QuarantineReasons.NonPositiveAmount]),
            [EventKind.UnknownAccount] = (OutcomeKind.Quarantined, [QuarantineReasons.UnknownAccount]),
            [EventKind.FutureTimestamp] = (OutcomeKind.Quarantined, [QuarantineReasons.FutureTimestamp]),
        };

        Assert.Equal(EventKinds.All.Order(), expected.Keys.Order());
        foreach (var kind in EventKinds.All)
        {
            var mapped = QuarantineReasons.ForGeneratorKind(EventKinds.Name(kind));
            Assert.Equal(expected[kind].Item1, mapped.Kind);
            Assert.Equal(expected[kind].Item2.Order(), mapped.Reasons.Order());
            Assert.All(mapped.Reasons, reason => Assert.Contains(reason, QuarantineReasons.All));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => QuarantineReasons.ForGeneratorKind("bogus"));
    }

    [Fact]
    public void Default_options_are_valid()
    {
        Assert.True(new CleansingOptionsValidator().Validate(null, new CleansingOptions()).Succeeded);
    }

    [Fact]
    public void Bad_options_are_named_with_the_problem_and_the_fix()
    {
        var result = new CleansingOptionsValidator().Validate(null, new CleansingOptions
        {
            MaxPayloadBytes = 10,
            FlushRows = 0,
            FlushAge = TimeSpan.Zero,
            DedupHorizon = TimeSpan.FromMinutes(5),
            WatermarkTolerance = TimeSpan.Zero,
            EarliestOccurredAt = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.FromHours(2)),
        });

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(6, failures.Count);
        foreach (var key in new[] { "MaxPayloadBytes", "FlushRows", "FlushAge", "DedupHorizon", "WatermarkTolerance", "EarliestOccurredAt" })
        {
            var message = Assert.Single(failures, f => f.StartsWith($"Cleansing:{key} ", StringComparison.Ordinal));
            Assert.Contains("Fix: set Cleansing__" + key, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Scale_out_options_are_named_with_the_problem_and_the_fix()
    {
        Assert.Matches("^[A-Za-z0-9_.-]+-[0-9]+$", new CleansingOptions().InstanceId);
        var result = new CleansingOptionsValidator().Validate(null, new CleansingOptions
        {
            ScaleOut = true,
            InstanceId = "cleansing 1/a",
            OwnershipExpiry = TimeSpan.FromSeconds(4),
            OwnershipRenewInterval = TimeSpan.FromSeconds(3),
        });

        var failures = result.Failures!.ToList();
        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("Cleansing:InstanceId ", StringComparison.Ordinal) && f.Contains("Fix: set Cleansing__InstanceId", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Cleansing:OwnershipRenewInterval ", StringComparison.Ordinal) && f.Contains("half of OwnershipExpiry", StringComparison.Ordinal));
        Assert.True(new CleansingOptionsValidator().Validate(null, new CleansingOptions { ScaleOut = true, OwnershipExpiry = TimeSpan.FromSeconds(2), OwnershipRenewInterval = TimeSpan.FromMilliseconds(500) }).Succeeded);
    }

    [Fact]
    public void Options_bind_from_the_cleansing_section_and_fail_at_start_up_when_invalid()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Cleansing:FlushRows"] = "1000", ["Cleansing:FlushAge"] = "00:00:05" })
            .Build();
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        ServiceDefaults.OptionsRegistration.AddValidatedOptions<CleansingOptions, CleansingOptionsValidator>(services, configuration, CleansingOptions.SectionName);
        using var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);

        var options = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IOptions<CleansingOptions>>(provider).Value;
        Assert.Equal(1000, options.FlushRows);
        Assert.Equal(TimeSpan.FromSeconds(5), options.FlushAge);
        Assert.Equal(64 * 1024, options.MaxPayloadBytes);
    }
}

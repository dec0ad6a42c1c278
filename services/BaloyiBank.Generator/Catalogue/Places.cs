using BaloyiBank.Contracts;

namespace BaloyiBank.Generator;

/// <summary>A city the bank's customers live in or spend in. Coordinates in micro-degrees keep jitter exact.</summary>
internal sealed record City(string Name, string Country, int LatitudeMicro, int LongitudeMicro, double Weight, string[] Branches)
{
    /// <summary>The city centre as a wire location, shared: system postings allocate none.</summary>
    public GeoLocation Centre { get; } = new(Name, Country, LatitudeMicro / 1e6, LongitudeMicro / 1e6);
}

internal static class Places
{
    private static City C(string name, string country, double lat, double lon, double weight, params string[] branches) =>
        new(name, country, (int)Math.Round(lat * 1e6), (int)Math.Round(lon * 1e6), weight, branches);

    /// <summary>South African cities, weighted roughly by the bank's customer base.</summary>
    public static readonly City[] SouthAfrica =
    [
        C("Johannesburg", "ZA", -26.204100, 28.047300, 22, "Johannesburg CBD", "Sandton City", "Rosebank", "Fourways", "Soweto Maponya"),
        C("Cape Town", "ZA", -33.924900, 18.424100, 16, "Cape Town Adderley", "Claremont", "Bellville", "Mitchells Plain", "Century City"),
        C("Durban", "ZA", -29.858700, 31.021800, 12, "Durban West Street", "Umhlanga", "Pinetown", "Chatsworth"),
        C("Pretoria", "ZA", -25.747900, 28.229300, 12, "Pretoria Church Square", "Menlyn", "Centurion", "Mamelodi"),
        C("Soweto", "ZA", -26.248500, 27.854000, 5, "Soweto Jabulani", "Protea Glen"),
        C("Gqeberha", "ZA", -33.960800, 25.602200, 5, "Gqeberha Govan Mbeki", "Walmer Park"),
        C("Bloemfontein", "ZA", -29.085200, 26.159600, 4, "Bloemfontein Central", "Loch Logan"),
        C("East London", "ZA", -33.015300, 27.911600, 3, "East London Oxford Street", "Vincent Park"),
        C("Polokwane", "ZA", -23.904500, 29.468900, 3, "Polokwane Mall of the North", "Polokwane Central"),
        C("Mbombela", "ZA", -25.475300, 30.969400, 3, "Mbombela Riverside", "White River"),
        C("Pietermaritzburg", "ZA", -29.600600, 30.379400, 3, "Pietermaritzburg Church Street", "Liberty Midlands"),
        C("Kimberley", "ZA", -28.728200, 24.749900, 2, "Kimberley Central"),
        C("Rustenburg", "ZA", -25.667600, 27.242100, 2, "Rustenburg Waterfall", "Rustenburg Central"),
        C("Stellenbosch", "ZA", -33.932100, 18.860200, 2, "Stellenbosch Dorp Street"),
        C("George", "ZA", -33.963000, 22.461700, 2, "George Garden Route Mall"),
    ];

    /// <summary>Where the bank also keeps branches (and customers' BWP and NAD accounts).</summary>
    public static readonly City Gaborone = C("Gaborone", "BW", -24.628200, 25.923100, 1, "Gaborone Main Mall", "Gaborone Game City");
    public static readonly City Windhoek = C("Windhoek", "NA", -22.560900, 17.065800, 1, "Windhoek Independence Avenue", "Windhoek Maerua");

    /// <summary>Places customers travel to or buy from, weighted by how often they do.</summary>
    public static readonly City[] Abroad =
    [
        C("London", "GB", 51.507400, -0.127800, 14),
        C("Gaborone", "BW", -24.628200, 25.923100, 10),
        C("Windhoek", "NA", -22.560900, 17.065800, 9),
        C("Maputo", "MZ", -25.969200, 32.573200, 9),
        C("Dubai", "AE", 25.204800, 55.270800, 9),
        C("Nairobi", "KE", -1.292100, 36.821900, 6),
        C("Harare", "ZW", -17.825200, 31.033500, 6),
        C("Maseru", "LS", -29.315100, 27.486900, 4),
        C("Mbabane", "SZ", -26.305400, 31.136700, 3),
        C("Port Louis", "MU", -20.160900, 57.501200, 5),
        C("Lisbon", "PT", 38.722300, -9.139300, 5),
        C("Frankfurt", "DE", 50.110900, 8.682100, 5),
        C("New York", "US", 40.712800, -74.006000, 7),
        C("Lagos", "NG", 6.524400, 3.379200, 4),
        C("Mumbai", "IN", 19.076000, 72.877700, 4),
    ];

    public static readonly WeightedTable<City> SouthAfricanCity = WeightedTable.Of(SouthAfrica, c => c.Weight);
    public static readonly WeightedTable<City> AbroadCity = WeightedTable.Of(Abroad, c => c.Weight);
}

/// <summary>Picks items in proportion to fixed weights (cumulative table, deterministic).</summary>
internal sealed class WeightedTable<T>(T[] items, double[] cumulative)
{
    public T Pick(StreamRandom random)
    {
        var target = random.NextDouble() * cumulative[^1];
        for (var i = 0; i < cumulative.Length - 1; i++)
        {
            if (target < cumulative[i])
            {
                return items[i];
            }
        }

        return items[^1];
    }
}

internal static class WeightedTable
{
    public static WeightedTable<T> Of<T>(T[] items, Func<T, double> weight)
    {
        var cumulative = new double[items.Length];
        var sum = 0.0;
        for (var i = 0; i < items.Length; i++)
        {
            sum += weight(items[i]);
            cumulative[i] = sum;
        }

        return new WeightedTable<T>(items, cumulative);
    }

    public static WeightedTable<T> Of<T>(params (T Item, double Weight)[] entries)
    {
        var items = new T[entries.Length];
        var cumulative = new double[entries.Length];
        var sum = 0.0;
        for (var i = 0; i < entries.Length; i++)
        {
            items[i] = entries[i].Item;
            sum += entries[i].Weight;
            cumulative[i] = sum;
        }

        return new WeightedTable<T>(items, cumulative);
    }
}

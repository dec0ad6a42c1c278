using BaloyiBank.Contracts;

namespace BaloyiBank.Generator;

/// <summary>
/// A merchant category: how often customers buy in it, the log-normal spend (median in ZAR,
/// spread in log space) and some fictional merchants with a local flavour.
/// </summary>
internal sealed record MerchantGroup(MerchantCategory Category, double Weight, double MedianZar, double Sigma, string[] Merchants);

internal static class Merchants
{
    public static readonly MerchantGroup[] Groups =
    [
        new(MerchantCategory.Groceries, 25, 320, 0.8, ["Mzansi SuperSave", "Karoo Fresh Market", "Ubuntu Grocers", "Fairprice Foods", "Corner Butchery", "Spaza Fresh", "Baobab Bakery and Deli"]),
        new(MerchantCategory.Restaurants, 12, 220, 0.6, ["Shisa Nyama Grill", "Bunny Chow House", "The Braai Spot", "Kota King", "Bo-Kaap Kitchen", "Cafe Jacaranda", "Sushi on Long", "Pizza Fratelli"]),
        new(MerchantCategory.Fuel, 11, 650, 0.4, ["Highveld Petroleum", "Coastal Fuel Stop", "N1 Garage", "Karoo Fuels", "Ubuntu Energy"]),
        new(MerchantCategory.Transport, 10, 45, 0.7, ["CityRide", "Metro Commuter", "Mzansi Cabs", "SkyBus Shuttle", "Toll Plaza"]),
        new(MerchantCategory.Travel, 2, 2500, 0.9, ["FlySA Airways", "Drakensberg Lodge", "Garden Route Getaways", "Kruger Safari Co", "Cape Coastal Hotels"]),
        new(MerchantCategory.Utilities, 4, 850, 0.5, ["City Power Prepaid", "Municipal Rates", "Water and Sanitation"]),
        new(MerchantCategory.Telecoms, 5, 399, 0.5, ["Vuka Mobile", "Lekker Telecom", "FibreLink", "Airtime Kiosk"]),
        new(MerchantCategory.Health, 4, 450, 0.8, ["Care Pharmacy", "MediPoint Clinic", "Vital Dental", "Optic Eye Care"]),
        new(MerchantCategory.Clothing, 6, 600, 0.7, ["Threads and Co", "Soweto Denim", "Kasi Kicks", "Coastline Apparel"]),
        new(MerchantCategory.Electronics, 3, 2200, 0.9, ["Digital Den", "TechHub", "Sound and Vision"]),
        new(MerchantCategory.Entertainment, 6, 180, 0.7, ["Cine Mzansi", "StreamBox", "Ticket Kiosk", "Jozi Bowling"]),
        new(MerchantCategory.Education, 1.5, 1500, 0.9, ["Varsity Fees Online", "BrightStart Creche", "Campus Books"]),
        new(MerchantCategory.HomeGarden, 3, 700, 0.9, ["Builders Yard", "Green Thumb Nursery", "Hardware Depot"]),
        new(MerchantCategory.Insurance, 2.5, 650, 0.5, ["Sentinel Life", "Ubuntu Cover", "Shield Insure"]),
        new(MerchantCategory.Other, 5, 250, 1.0, ["Paypoint", "Market Stall", "Charity Donation", "Parking Meter"]),
    ];

    public static readonly WeightedTable<MerchantGroup> ByFrequency = WeightedTable.Of(Groups, g => g.Weight);
}

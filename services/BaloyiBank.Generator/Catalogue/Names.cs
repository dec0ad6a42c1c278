namespace BaloyiBank.Generator;

/// <summary>First and last names of one origin.</summary>
internal sealed record NameBook(string[] FirstNames, string[] LastNames);

/// <summary>Names plausible for the bank's customers: mostly South African, some from the region and abroad.</summary>
internal static class Names
{
    private static readonly NameBook SouthAfrican = new(
    [
        "Thabo", "Sipho", "Lerato", "Nomvula", "Thandiwe", "Bongani", "Kagiso", "Palesa", "Lwazi", "Ayanda",
        "Zanele", "Mpho", "Tshepo", "Naledi", "Sibusiso", "Nokuthula", "Andile", "Busisiwe", "Themba", "Lindiwe",
        "Karabo", "Refilwe", "Lungile", "Siyabonga", "Nandi", "Tumi", "Buhle", "Mandla", "Precious", "Gift",
        "Johan", "Pieter", "Annelie", "Marike", "Willem", "Chantelle", "Liezel", "Jacques", "Ruan", "Elna",
        "Sarah", "Michael", "David", "Jessica", "Keegan", "Tamryn", "Nicole", "Jason", "Megan", "Ryan",
        "Priya", "Rajesh", "Kavitha", "Ashwin", "Yusuf", "Fatima", "Zainab", "Imraan", "Shireen", "Kershia",
    ],
    [
        "Nkosi", "Dlamini", "Ndlovu", "Khumalo", "Mokoena", "Mahlangu", "Zulu", "Mthembu", "Sithole", "Ngcobo",
        "Mabaso", "Molefe", "Maseko", "Shabalala", "Baloyi", "Maluleke", "Chauke", "Mathebula", "Nkuna", "Radebe",
        "Mofokeng", "Tshabalala", "Ntuli", "Cele", "Mkhize", "Gumede", "Hlongwane", "Majola", "Mokwena", "Tau",
        "Botha", "van der Merwe", "Pretorius", "Venter", "Coetzee", "du Plessis", "Nel", "Fourie", "Kruger", "Steyn",
        "Smith", "Jacobs", "Petersen", "Adams", "Williams", "Hendricks", "Abrahams", "Davids", "Isaacs", "Booysen",
        "Naidoo", "Pillay", "Govender", "Moodley", "Reddy", "Chetty", "Singh", "Maharaj", "Essop", "Patel",
    ]);

    private static readonly NameBook Botswanan = new(
        ["Kabo", "Neo", "Onalenna", "Tumelo", "Kefilwe", "Boitumelo", "Masego", "Oratile", "Kgomotso", "Tebogo"],
        ["Mogapi", "Kgosi", "Seretse", "Masire", "Molefhe", "Motsumi", "Sebina", "Ramotswa", "Modise", "Keabetswe"]);

    private static readonly NameBook Namibian = new(
        ["Ndapewa", "Tuyeni", "Panduleni", "Hilma", "Johannes", "Frieda", "Ndeshi", "Petrus", "Selma", "Tangeni"],
        ["Shikongo", "Nghidinwa", "Amutenya", "Iipumbu", "Nangolo", "Haufiku", "Shilongo", "Nujoma", "Kandjii", "Muller"]);

    private static readonly NameBook Zimbabwean = new(
        ["Tendai", "Farai", "Tatenda", "Chipo", "Rudo", "Tafadzwa", "Kudzai", "Nyasha", "Takudzwa", "Rumbidzai"],
        ["Moyo", "Ncube", "Chikwanha", "Mutasa", "Sibanda", "Mhlanga", "Dube", "Chirwa", "Mapfumo", "Gumbo"]);

    private static readonly NameBook Lusophone = new(
        ["João", "Ana", "Carlos", "Inês", "Tiago", "Marta", "Armando", "Celeste", "Nélio", "Graça"],
        ["Machava", "Cossa", "Sitoe", "Ferreira", "Santos", "Tembe", "Mondlane", "Nhantumbo", "Gonçalves", "Pereira"]);

    private static readonly NameBook Nigerian = new(
        ["Chinedu", "Ngozi", "Adebayo", "Funmilayo", "Emeka", "Aisha", "Oluwaseun", "Chiamaka", "Ibrahim", "Folake"],
        ["Okafor", "Adeyemi", "Nwosu", "Bello", "Eze", "Okonkwo", "Balogun", "Abubakar", "Olawale", "Obi"]);

    private static readonly NameBook British = new(
        ["Oliver", "Amelia", "Harry", "Charlotte", "James", "Emily", "George", "Sophie", "Thomas", "Chloe"],
        ["Taylor", "Brown", "Wilson", "Evans", "Thompson", "Walker", "Roberts", "Wright", "Hughes", "Clarke"]);

    private static readonly NameBook Indian = new(
        ["Arjun", "Ananya", "Vikram", "Sneha", "Rohan", "Aditi", "Karan", "Meera", "Sanjay", "Pooja"],
        ["Sharma", "Iyer", "Nair", "Mehta", "Kapoor", "Rao", "Desai", "Menon", "Gupta", "Joshi"]);

    /// <summary>The origin of a South-African-resident customer's name.</summary>
    public static readonly WeightedTable<NameBook> ForSouthAfricanResident = WeightedTable.Of(
        (SouthAfrican, 84.0), (Zimbabwean, 5.0), (Lusophone, 3.0), (Nigerian, 2.0), (British, 3.0), (Indian, 2.0), (Botswanan, 0.5), (Namibian, 0.5));

    public static readonly WeightedTable<NameBook> ForBotswanaResident = WeightedTable.Of((Botswanan, 85.0), (SouthAfrican, 10.0), (Zimbabwean, 5.0));

    public static readonly WeightedTable<NameBook> ForNamibiaResident = WeightedTable.Of((Namibian, 85.0), (SouthAfrican, 12.0), (British, 3.0));

    public static readonly string[] EmailDomains = ["example.com", "example.net", "example.org", "mail.example.com"];

    /// <summary>Lower-case ASCII for an email address: accents folded, spaces dropped.</summary>
    public static string EmailPart(string name)
    {
        Span<char> buffer = stackalloc char[name.Length];
        var length = 0;
        foreach (var c in name)
        {
            var folded = char.ToLowerInvariant(c) switch
            {
                'ã' or 'á' or 'à' or 'â' => 'a',
                'é' or 'ê' or 'è' or 'ë' => 'e',
                'í' or 'ï' => 'i',
                'ó' or 'ô' or 'õ' or 'ö' => 'o',
                'ú' or 'ü' => 'u',
                'ç' => 'c',
                var other => other,
            };
            if (folded is >= 'a' and <= 'z')
            {
                buffer[length++] = folded;
            }
        }

        return new string(buffer[..length]);
    }
}

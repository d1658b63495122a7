/** SDL of the shared data model (CONTRACT.md) and the caller's own view of their access. */
export const sharedDataTypeDefs = /* GraphQL */ `
  type Query {
    "A person by resident ID number; null when unknown or outside your scope."
    person(idNumber: ID!): Person
    people(filter: PersonFilter, orderBy: PersonOrder, first: Int = 20, after: String): PersonConnection!
    "A house by id; null when unknown or outside your scope."
    house(id: ID!): House
    houses(filter: HouseFilter, orderBy: HouseOrder, first: Int = 20, after: String): HouseConnection!
    "A social-security account; in scope only when its person is."
    socialSecurityAccount(idNumber: ID!): SocialSecurityAccount
    "Who you are, and the duties and grants your organisation has."
    me: Viewer!
  }

  type Person {
    idNumber: ID
    name: String
    gender: String
    "YYYY-MM-DD, or the year alone when granted masked."
    birthDate: String
    age: Int
    ethnicity: String
    phone: String
    hukouAddress: String
    residenceAddress: String
    streetCode: String
    residentSince: String
    "The dwelling the person lives in (housing department)."
    household: House
    "The person's social-insurance account (human-resources and social-security bureau)."
    socialSecurity: SocialSecurityAccount
  }

  type House {
    id: ID
    address: String
    streetCode: String
    "Square metres."
    buildingArea: Float
    usage: String
    tenure: String
    ownerIdNumber: String
    ownerName: String
    builtYear: Int
    registeredAt: String
    "The people registered as living here, under your grants on population."
    residents: [Person!]!
  }

  type SocialSecurityAccount {
    idNumber: ID
    pensionStatus: String
    "CNY per month."
    monthlyPension: Float
    medicalInsuranceType: String
    employer: String
    "YYYY-MM"
    lastContributionMonth: String
    minimumLivingAssistance: Boolean
  }

  type PageInfo {
    hasNextPage: Boolean!
    endCursor: String
  }

  type PersonEdge {
    cursor: String!
    node: Person!
  }

  type PersonConnection {
    edges: [PersonEdge!]!
    pageInfo: PageInfo!
    "Rows in your scope matching the filter."
    totalCount: Int!
  }

  type HouseEdge {
    cursor: String!
    node: House!
  }

  type HouseConnection {
    edges: [HouseEdge!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }

  enum OrderDirection {
    ASC
    DESC
  }

  input StringFilter {
    eq: String
    ne: String
    in: [String!]
    startsWith: String
  }

  input IntFilter {
    eq: Int
    ne: Int
    lt: Int
    lte: Int
    gt: Int
    gte: Int
    in: [Int!]
  }

  input FloatFilter {
    eq: Float
    lt: Float
    lte: Float
    gt: Float
    gte: Float
  }

  "Dates as YYYY-MM-DD."
  input DateFilter {
    eq: String
    lt: String
    lte: String
    gt: String
    gte: String
  }

  input PersonFilter {
    idNumber: StringFilter
    name: StringFilter
    gender: StringFilter
    birthDate: DateFilter
    age: IntFilter
    ethnicity: StringFilter
    phone: StringFilter
    hukouAddress: StringFilter
    residenceAddress: StringFilter
    streetCode: StringFilter
    residentSince: DateFilter
  }

  enum PersonOrderField {
    idNumber
    name
    birthDate
    residentSince
    streetCode
  }

  input PersonOrder {
    field: PersonOrderField!
    direction: OrderDirection = ASC
  }

  input HouseFilter {
    id: StringFilter
    address: StringFilter
    streetCode: StringFilter
    buildingArea: FloatFilter
    usage: StringFilter
    tenure: StringFilter
    ownerIdNumber: StringFilter
    ownerName: StringFilter
    builtYear: IntFilter
    registeredAt: DateFilter
  }

  enum HouseOrderField {
    id
    address
    buildingArea
    builtYear
    registeredAt
  }

  input HouseOrder {
    field: HouseOrderField!
    direction: OrderDirection = ASC
  }

  type Viewer {
    sub: String!
    org: String!
    roles: [String!]!
    "Your street's division code, when your organisation is a street office."
    street: String
    "Duties delegated to your street."
    duties: [Duty!]!
    "Active grants that apply to your street."
    grants: [Grant!]!
  }

  type Duty {
    id: ID!
    title: String!
    delegatedBy: String!
    allStreets: Boolean!
    "Street codes the duty is delegated to; empty when allStreets."
    streets: [String!]!
  }

  enum FieldAccess {
    full
    masked
    "Grouped and filtered on in statistics only; never read."
    aggregate
  }

  type GrantField {
    field: String!
    access: FieldAccess!
  }

  type Grant {
    id: ID!
    owner: String!
    dataset: String!
    duty: String!
    allStreets: Boolean!
    streets: [String!]!
    fields: [GrantField!]!
    "The row condition as JSON, or null when every row of the street qualifies."
    rows: String
    validFrom: String
    validUntil: String
    active: Boolean!
    origin: String!
    createdBy: String!
    createdAt: String!
    revokedAt: String
    revokedBy: String
  }
`;

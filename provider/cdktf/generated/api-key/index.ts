// https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface ApiKeyConfig extends cdktf.TerraformMetaArguments {
  /**
  * Free text: what the key is for
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#description ApiKey#description}
  */
  readonly description?: string;
  /**
  * The environment tag embedded in the key prefix
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#environment ApiKey#environment}
  */
  readonly environment?: string;
  /**
  * An RFC 3339 instant after which the key stops working
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#expires_at ApiKey#expires_at}
  */
  readonly expiresAt?: string;
  /**
  * How long the old key keeps working after a rotation or a destroy
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#grace_period ApiKey#grace_period}
  */
  readonly gracePeriod?: string;
  /**
  * IPv4/IPv6 CIDRs; empty means any address
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#ip_allowlist ApiKey#ip_allowlist}
  */
  readonly ipAllowlist?: string[];
  /**
  * A key you generated, in keyward's format for the key's environment (docs/key-format.md); its randomness is then yours to guarantee. Omit it and keyward generates one. Write-only (OpenTofu and Terraform ≥ 1.11): used when the key is created or replaced, never stored in state or plan; feed it from the ephemeral keyward_key_material
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#key_wo ApiKey#key_wo}
  */
  readonly keyWo?: string;
  /**
  * Required with key_wo: changing it replaces the key (create_before_destroy) with key_wo's value at that apply. Derive it from the rotation date
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#key_wo_version ApiKey#key_wo_version}
  */
  readonly keyWoVersion?: string;
  /**
  * Past this age the key is due for rotation
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#max_age_days ApiKey#max_age_days}
  */
  readonly maxAgeDays?: number;
  /**
  * Free-form JSON returned on every successful verification
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#metadata ApiKey#metadata}
  */
  readonly metadata?: { [key: string]: any };
  /**
  * A label for people: who or what uses this key
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#name ApiKey#name}
  */
  readonly name: string;
  /**
  * The team or person responsible for the key, e.g. team-crm
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#owner ApiKey#owner}
  */
  readonly owner?: string;
  /**
  * At most `limit` successful verifications per `windowSeconds`
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#rate_limit ApiKey#rate_limit}
  */
  readonly rateLimit?: ApiKeyRateLimit;
  /**
  * Every request with this key must be signed
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#require_signature ApiKey#require_signature}
  */
  readonly requireSignature?: boolean | cdktf.IResolvable;
  /**
  * An ISO date; changing it replaces the key, create-before-destroy (the line to edit in a GitOps repo)
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#rotate_after ApiKey#rotate_after}
  */
  readonly rotateAfter?: string;
  /**
  * Replace the key once it is older than this many days
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#rotate_every_days ApiKey#rotate_every_days}
  */
  readonly rotateEveryDays?: number;
  /**
  * What the key may do, e.g. contacts:read or contacts:*
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#scopes ApiKey#scopes}
  */
  readonly scopes?: string[];
  /**
  * Scopes that count only on a request signed with the key's signing secret (RFC 9421, hmac-sha256)
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#signed_scopes ApiKey#signed_scopes}
  */
  readonly signedScopes?: string[];
}
export interface ApiKeyRateLimit {
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#limit ApiKey#limit}
  */
  readonly limit?: number;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#window_seconds ApiKey#window_seconds}
  */
  readonly windowSeconds?: number;
}

export function apiKeyRateLimitToTerraform(struct?: ApiKeyRateLimit | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    limit: cdktf.numberToTerraform(struct!.limit),
    window_seconds: cdktf.numberToTerraform(struct!.windowSeconds),
  }
}


export function apiKeyRateLimitToHclTerraform(struct?: ApiKeyRateLimit | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    limit: {
      value: cdktf.numberToHclTerraform(struct!.limit),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    window_seconds: {
      value: cdktf.numberToHclTerraform(struct!.windowSeconds),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class ApiKeyRateLimitOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;
  private resolvableValue?: cdktf.IResolvable;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false);
  }

  public get internalValue(): ApiKeyRateLimit | cdktf.IResolvable | undefined {
    if (this.resolvableValue) {
      return this.resolvableValue;
    }
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._limit !== undefined) {
      hasAnyValues = true;
      internalValueResult.limit = this._limit;
    }
    if (this._windowSeconds !== undefined) {
      hasAnyValues = true;
      internalValueResult.windowSeconds = this._windowSeconds;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: ApiKeyRateLimit | cdktf.IResolvable | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this.resolvableValue = undefined;
      this._limit = undefined;
      this._windowSeconds = undefined;
    }
    else if (cdktf.Tokenization.isResolvable(value)) {
      this.isEmptyObject = false;
      this.resolvableValue = value;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this.resolvableValue = undefined;
      this._limit = value.limit;
      this._windowSeconds = value.windowSeconds;
    }
  }

  // limit - computed: false, optional: true, required: false
  private _limit?: number; 
  public get limit() {
    return this.getNumberAttribute('limit');
  }
  public set limit(value: number) {
    this._limit = value;
  }
  public resetLimit() {
    this._limit = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get limitInput() {
    return this._limit;
  }

  // window_seconds - computed: false, optional: true, required: false
  private _windowSeconds?: number; 
  public get windowSeconds() {
    return this.getNumberAttribute('window_seconds');
  }
  public set windowSeconds(value: number) {
    this._windowSeconds = value;
  }
  public resetWindowSeconds() {
    this._windowSeconds = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get windowSecondsInput() {
    return this._windowSeconds;
  }
}

/**
* Represents a {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key keyward_api_key}
*/
export class ApiKey extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "keyward_api_key";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a ApiKey resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the ApiKey to import
  * @param importFromId The id of the existing ApiKey that should be imported. Refer to the {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the ApiKey to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "keyward_api_key", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs/resources/api_key keyward_api_key} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options ApiKeyConfig
  */
  public constructor(scope: Construct, id: string, config: ApiKeyConfig) {
    super(scope, id, {
      terraformResourceType: 'keyward_api_key',
      terraformGeneratorMetadata: {
        providerName: 'keyward'
      },
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach
    });
    this._description = config.description;
    this._environment = config.environment;
    this._expiresAt = config.expiresAt;
    this._gracePeriod = config.gracePeriod;
    this._ipAllowlist = config.ipAllowlist;
    this._keyWo = config.keyWo;
    this._keyWoVersion = config.keyWoVersion;
    this._maxAgeDays = config.maxAgeDays;
    this._metadata = config.metadata;
    this._name = config.name;
    this._owner = config.owner;
    this._rateLimit.internalValue = config.rateLimit;
    this._requireSignature = config.requireSignature;
    this._rotateAfter = config.rotateAfter;
    this._rotateEveryDays = config.rotateEveryDays;
    this._scopes = config.scopes;
    this._signedScopes = config.signedScopes;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // created_at - computed: true, optional: false, required: false
  public get createdAt() {
    return this.getStringAttribute('created_at');
  }

  // description - computed: false, optional: true, required: false
  private _description?: string; 
  public get description() {
    return this.getStringAttribute('description');
  }
  public set description(value: string) {
    this._description = value;
  }
  public resetDescription() {
    this._description = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get descriptionInput() {
    return this._description;
  }

  // environment - computed: true, optional: true, required: false
  private _environment?: string; 
  public get environment() {
    return this.getStringAttribute('environment');
  }
  public set environment(value: string) {
    this._environment = value;
  }
  public resetEnvironment() {
    this._environment = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get environmentInput() {
    return this._environment;
  }

  // expires_at - computed: false, optional: true, required: false
  private _expiresAt?: string; 
  public get expiresAt() {
    return this.getStringAttribute('expires_at');
  }
  public set expiresAt(value: string) {
    this._expiresAt = value;
  }
  public resetExpiresAt() {
    this._expiresAt = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get expiresAtInput() {
    return this._expiresAt;
  }

  // grace_period - computed: true, optional: true, required: false
  private _gracePeriod?: string; 
  public get gracePeriod() {
    return this.getStringAttribute('grace_period');
  }
  public set gracePeriod(value: string) {
    this._gracePeriod = value;
  }
  public resetGracePeriod() {
    this._gracePeriod = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get gracePeriodInput() {
    return this._gracePeriod;
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
  }

  // ip_allowlist - computed: true, optional: true, required: false
  private _ipAllowlist?: string[]; 
  public get ipAllowlist() {
    return this.getListAttribute('ip_allowlist');
  }
  public set ipAllowlist(value: string[]) {
    this._ipAllowlist = value;
  }
  public resetIpAllowlist() {
    this._ipAllowlist = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get ipAllowlistInput() {
    return this._ipAllowlist;
  }

  // key - computed: true, optional: false, required: false
  public get key() {
    return this.getStringAttribute('key');
  }

  // key_wo - computed: false, optional: true, required: false
  private _keyWo?: string; 
  public get keyWo() {
    return this.getStringAttribute('key_wo');
  }
  public set keyWo(value: string) {
    this._keyWo = value;
  }
  public resetKeyWo() {
    this._keyWo = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get keyWoInput() {
    return this._keyWo;
  }

  // key_wo_version - computed: false, optional: true, required: false
  private _keyWoVersion?: string; 
  public get keyWoVersion() {
    return this.getStringAttribute('key_wo_version');
  }
  public set keyWoVersion(value: string) {
    this._keyWoVersion = value;
  }
  public resetKeyWoVersion() {
    this._keyWoVersion = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get keyWoVersionInput() {
    return this._keyWoVersion;
  }

  // max_age_days - computed: true, optional: true, required: false
  private _maxAgeDays?: number; 
  public get maxAgeDays() {
    return this.getNumberAttribute('max_age_days');
  }
  public set maxAgeDays(value: number) {
    this._maxAgeDays = value;
  }
  public resetMaxAgeDays() {
    this._maxAgeDays = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get maxAgeDaysInput() {
    return this._maxAgeDays;
  }

  // metadata - computed: true, optional: true, required: false
  private _metadata?: { [key: string]: any }; 
  public get metadata() {
    return this.getAnyMapAttribute('metadata');
  }
  public set metadata(value: { [key: string]: any }) {
    this._metadata = value;
  }
  public resetMetadata() {
    this._metadata = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get metadataInput() {
    return this._metadata;
  }

  // name - computed: false, optional: false, required: true
  private _name?: string; 
  public get name() {
    return this.getStringAttribute('name');
  }
  public set name(value: string) {
    this._name = value;
  }
  // Temporarily expose input value. Use with caution.
  public get nameInput() {
    return this._name;
  }

  // owner - computed: false, optional: true, required: false
  private _owner?: string; 
  public get owner() {
    return this.getStringAttribute('owner');
  }
  public set owner(value: string) {
    this._owner = value;
  }
  public resetOwner() {
    this._owner = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get ownerInput() {
    return this._owner;
  }

  // rate_limit - computed: false, optional: true, required: false
  private _rateLimit = new ApiKeyRateLimitOutputReference(this, "rate_limit");
  public get rateLimit() {
    return this._rateLimit;
  }
  public putRateLimit(value: ApiKeyRateLimit) {
    this._rateLimit.internalValue = value;
  }
  public resetRateLimit() {
    this._rateLimit.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get rateLimitInput() {
    return this._rateLimit.internalValue;
  }

  // require_signature - computed: true, optional: true, required: false
  private _requireSignature?: boolean | cdktf.IResolvable; 
  public get requireSignature() {
    return this.getBooleanAttribute('require_signature');
  }
  public set requireSignature(value: boolean | cdktf.IResolvable) {
    this._requireSignature = value;
  }
  public resetRequireSignature() {
    this._requireSignature = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get requireSignatureInput() {
    return this._requireSignature;
  }

  // rotate_after - computed: false, optional: true, required: false
  private _rotateAfter?: string; 
  public get rotateAfter() {
    return this.getStringAttribute('rotate_after');
  }
  public set rotateAfter(value: string) {
    this._rotateAfter = value;
  }
  public resetRotateAfter() {
    this._rotateAfter = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get rotateAfterInput() {
    return this._rotateAfter;
  }

  // rotate_every_days - computed: false, optional: true, required: false
  private _rotateEveryDays?: number; 
  public get rotateEveryDays() {
    return this.getNumberAttribute('rotate_every_days');
  }
  public set rotateEveryDays(value: number) {
    this._rotateEveryDays = value;
  }
  public resetRotateEveryDays() {
    this._rotateEveryDays = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get rotateEveryDaysInput() {
    return this._rotateEveryDays;
  }

  // scopes - computed: true, optional: true, required: false
  private _scopes?: string[]; 
  public get scopes() {
    return this.getListAttribute('scopes');
  }
  public set scopes(value: string[]) {
    this._scopes = value;
  }
  public resetScopes() {
    this._scopes = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get scopesInput() {
    return this._scopes;
  }

  // signed_scopes - computed: true, optional: true, required: false
  private _signedScopes?: string[]; 
  public get signedScopes() {
    return this.getListAttribute('signed_scopes');
  }
  public set signedScopes(value: string[]) {
    this._signedScopes = value;
  }
  public resetSignedScopes() {
    this._signedScopes = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get signedScopesInput() {
    return this._signedScopes;
  }

  // signing_secret - computed: true, optional: false, required: false
  public get signingSecret() {
    return this.getStringAttribute('signing_secret');
  }

  // start - computed: true, optional: false, required: false
  public get start() {
    return this.getStringAttribute('start');
  }

  // status - computed: true, optional: false, required: false
  public get status() {
    return this.getStringAttribute('status');
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      description: cdktf.stringToTerraform(this._description),
      environment: cdktf.stringToTerraform(this._environment),
      expires_at: cdktf.stringToTerraform(this._expiresAt),
      grace_period: cdktf.stringToTerraform(this._gracePeriod),
      ip_allowlist: cdktf.listMapper(cdktf.stringToTerraform, false)(this._ipAllowlist),
      key_wo: cdktf.stringToTerraform(this._keyWo),
      key_wo_version: cdktf.stringToTerraform(this._keyWoVersion),
      max_age_days: cdktf.numberToTerraform(this._maxAgeDays),
      metadata: cdktf.hashMapper(cdktf.anyToTerraform)(this._metadata),
      name: cdktf.stringToTerraform(this._name),
      owner: cdktf.stringToTerraform(this._owner),
      rate_limit: apiKeyRateLimitToTerraform(this._rateLimit.internalValue),
      require_signature: cdktf.booleanToTerraform(this._requireSignature),
      rotate_after: cdktf.stringToTerraform(this._rotateAfter),
      rotate_every_days: cdktf.numberToTerraform(this._rotateEveryDays),
      scopes: cdktf.listMapper(cdktf.stringToTerraform, false)(this._scopes),
      signed_scopes: cdktf.listMapper(cdktf.stringToTerraform, false)(this._signedScopes),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      description: {
        value: cdktf.stringToHclTerraform(this._description),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      environment: {
        value: cdktf.stringToHclTerraform(this._environment),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      expires_at: {
        value: cdktf.stringToHclTerraform(this._expiresAt),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      grace_period: {
        value: cdktf.stringToHclTerraform(this._gracePeriod),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      ip_allowlist: {
        value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(this._ipAllowlist),
        isBlock: false,
        type: "list",
        storageClassType: "stringList",
      },
      key_wo: {
        value: cdktf.stringToHclTerraform(this._keyWo),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      key_wo_version: {
        value: cdktf.stringToHclTerraform(this._keyWoVersion),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      max_age_days: {
        value: cdktf.numberToHclTerraform(this._maxAgeDays),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      metadata: {
        value: cdktf.hashMapperHcl(cdktf.anyToHclTerraform)(this._metadata),
        isBlock: false,
        type: "map",
        storageClassType: "anyMap",
      },
      name: {
        value: cdktf.stringToHclTerraform(this._name),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      owner: {
        value: cdktf.stringToHclTerraform(this._owner),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      rate_limit: {
        value: apiKeyRateLimitToHclTerraform(this._rateLimit.internalValue),
        isBlock: true,
        type: "struct",
        storageClassType: "ApiKeyRateLimit",
      },
      require_signature: {
        value: cdktf.booleanToHclTerraform(this._requireSignature),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      rotate_after: {
        value: cdktf.stringToHclTerraform(this._rotateAfter),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      rotate_every_days: {
        value: cdktf.numberToHclTerraform(this._rotateEveryDays),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      scopes: {
        value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(this._scopes),
        isBlock: false,
        type: "list",
        storageClassType: "stringList",
      },
      signed_scopes: {
        value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(this._signedScopes),
        isBlock: false,
        type: "list",
        storageClassType: "stringList",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}

// https://registry.terraform.io/providers/keyward/keyward/latest/docs
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface KeywardProviderConfig {
  /**
  * A root key for the workspace; else KEYWARD_ROOT_KEY
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs#root_key KeywardProvider#root_key}
  */
  readonly rootKey?: string;
  /**
  * keyward's base URL, e.g. http://127.0.0.1:8080; else KEYWARD_URL
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs#url KeywardProvider#url}
  */
  readonly url?: string;
  /**
  * Alias name
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs#alias KeywardProvider#alias}
  */
  readonly alias?: string;
}

/**
* Represents a {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs keyward}
*/
export class KeywardProvider extends cdktf.TerraformProvider {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "keyward";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a KeywardProvider resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the KeywardProvider to import
  * @param importFromId The id of the existing KeywardProvider that should be imported. Refer to the {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the KeywardProvider to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "keyward", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/keyward/keyward/latest/docs keyward} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options KeywardProviderConfig = {}
  */
  public constructor(scope: Construct, id: string, config: KeywardProviderConfig = {}) {
    super(scope, id, {
      terraformResourceType: 'keyward',
      terraformGeneratorMetadata: {
        providerName: 'keyward'
      },
      terraformProviderSource: 'registry.terraform.io/keyward/keyward'
    });
    this._rootKey = config.rootKey;
    this._url = config.url;
    this._alias = config.alias;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // root_key - computed: false, optional: true, required: false
  private _rootKey?: string; 
  public get rootKey() {
    return this._rootKey;
  }
  public set rootKey(value: string | undefined) {
    this._rootKey = value;
  }
  public resetRootKey() {
    this._rootKey = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get rootKeyInput() {
    return this._rootKey;
  }

  // url - computed: false, optional: true, required: false
  private _url?: string; 
  public get url() {
    return this._url;
  }
  public set url(value: string | undefined) {
    this._url = value;
  }
  public resetUrl() {
    this._url = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get urlInput() {
    return this._url;
  }

  // alias - computed: false, optional: true, required: false
  private _alias?: string; 
  public get alias() {
    return this._alias;
  }
  public set alias(value: string | undefined) {
    this._alias = value;
  }
  public resetAlias() {
    this._alias = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get aliasInput() {
    return this._alias;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      root_key: cdktf.stringToTerraform(this._rootKey),
      url: cdktf.stringToTerraform(this._url),
      alias: cdktf.stringToTerraform(this._alias),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      root_key: {
        value: cdktf.stringToHclTerraform(this._rootKey),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      url: {
        value: cdktf.stringToHclTerraform(this._url),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      alias: {
        value: cdktf.stringToHclTerraform(this._alias),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
